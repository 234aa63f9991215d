"""The running services chain their own audit rows: a few seconds after a
request, its audit row is in core.audit_chain and sql/audit.sh verify holds
(the tampering cases run on a scratch cluster: tests/e2e/test_audit_chain.sh)."""

import subprocess
import uuid

from stackapi import REPO, wait_for


def test_services_chain_their_audit_rows(stack):
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    name = "chained-" + uuid.uuid4().hex[:8]
    resp = stack.api("POST", "/v1/apps/secrets", [("name", name), ("payload", "p"), ("scope[type]", "account")],
                     key=app["secret_key"], headers={"Stripe-Account": account})
    assert resp.status == 200, resp.body
    secret = resp.body["id"]

    def chained():
        return stack.psql("SELECT count(*) FROM core.audit a JOIN core.audit_chain c ON c.audit_id = a.id"
                          " WHERE a.object_id = :'p1' AND a.action = 'secret.set'", secret) == [("1",)]

    # The chainer leaves rows of the last 5 seconds to transactions in flight.
    assert wait_for(chained, 20), "the audit row of the set never reached the chain"
    done = subprocess.run([str(REPO / "sql" / "audit.sh"), "verify"], env=stack.pg_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("chain holds"), done.stdout
    route = stack.psql("SELECT route FROM core.audit WHERE object_id = :'p1' AND action = 'secret.set'", secret)
    assert route == [("POST /v1/apps/secrets",)]
