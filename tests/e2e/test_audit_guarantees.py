"""What the audit log promises beyond its rows: a change and its audit row
commit together or not at all (fail closed), and no secret sent through any
endpoint, nor the key that sent it, reaches the core schema or a log."""

import base64
import subprocess
import uuid

from stackapi import assert_stripe_error, encode_form, wait_for


def test_a_change_whose_audit_row_fails_is_not_made(stack):
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    headers = {"Stripe-Account": account}
    name = "failclosed-" + uuid.uuid4().hex[:10]
    # Make exactly this request's audit row impossible to write.
    stack.psql("ALTER TABLE core.audit ADD CONSTRAINT test_fail_closed"
               " CHECK (target IS DISTINCT FROM 'account/' || :'p1') NOT VALID", name)
    try:
        resp = stack.api("POST", "/v1/apps/secrets", [("name", name), ("payload", "p"), ("scope[type]", "account")],
                         key=app["secret_key"], headers=headers)
        assert_stripe_error(resp, 500, error_type="api_error")
    finally:
        stack.psql("ALTER TABLE core.audit DROP CONSTRAINT test_fail_closed")
    found = stack.api("GET", "/v1/apps/secrets/find", [("name", name), ("scope[type]", "account")],
                      key=app["secret_key"], headers=headers)
    assert_stripe_error(found, 404)
    assert stack.psql("SELECT count(*) FROM secrets.secrets WHERE name = :'p1'", name) == [("0",)]


def forms(value):
    raw = value.encode()
    return [value, raw.hex(), base64.b64encode(raw).decode()]


def test_planted_secrets_reach_neither_core_nor_the_logs(stack):
    app, account = stack.apps[0], stack.apps[0]["installed_on"][0]
    headers = {"Stripe-Account": account}
    user = "usr_" + uuid.uuid4().hex[:16]
    planted = {kind: f"PLANTED-{kind}-{uuid.uuid4().hex}" for kind in ("account", "user", "list", "key")}
    key = app["secret_key"]
    for kind, scope in (("account", [("scope[type]", "account")]),
                        ("user", [("scope[type]", "user"), ("scope[user]", user)])):
        name = [("name", "plant-" + kind)]
        body = name + [("payload", planted[kind]), ("expand[]", "payload")] + scope
        for _ in range(2):  # the second one is an idempotent replay
            resp = stack.api("POST", "/v1/apps/secrets", body, key=key,
                             headers={**headers, "Idempotency-Key": "plant-" + kind + planted[kind][-8:]})
            assert resp.status == 200 and resp.body["payload"] == planted[kind]
        assert stack.api("GET", "/v1/apps/secrets/find", name + scope + [("expand[]", "payload")], key=key,
                         headers=headers).body["payload"] == planted[kind]
        listed = stack.api("GET", "/v1/apps/secrets", scope + [("expand[]", "data.payload")], key=key, headers=headers)
        assert planted[kind] in [s.get("payload") for s in listed.body["data"]]
        deleted = stack.api("POST", "/v1/apps/secrets/delete", name + scope + [("expand[]", "payload")], key=key,
                            headers=headers)
        assert deleted.body["payload"] == planted[kind]
    # A key nobody issued, whose secret part is planted: only its public
    # prefix may be recorded.
    forged = "sk_test_" + "Zz9Zz9Zz9Zz9" + planted["key"].replace("-", "")[:24]
    last = stack.api("GET", "/v1/apps/secrets", [("scope[type]", "account")], key=forged)
    assert last.status == 401

    dump = subprocess.run(["pg_dump", "--schema=core", "--data-only"], env=stack.pg_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=True).stdout
    secret_part = forged[len("sk_test_Zz9Z"):]
    for value in list(planted.values()) + [secret_part]:
        for form in forms(value):
            assert form not in dump, f"{form[:24]}... is in the core schema"
    for log, text in stack.service_logs(after=last).items():
        for value in list(planted.values()) + [secret_part]:
            assert value not in text, log


def letters(n=12):
    """n random lowercase letters (names must be letters)."""
    return "".join(chr(ord("a") + b % 26) for b in uuid.uuid4().bytes[:n])


def test_planted_personal_data_and_credentials_reach_neither_core_nor_the_logs(stack):
    """Through the install and identity endpoints: a session's provided email,
    the names a person types on the hosted flow, the session's client secret,
    a new app's signing secret, a webhook endpoint's secret and a mistyped
    password stay out of the core schema (audit rows, events, idempotency
    records) and out of every log."""
    account_key = stack.accounts[0]["secret_key"]
    email = f"planted.{letters()}@example.com"
    first, last = "Planted" + letters(), "Person" + letters()
    password = "Planted-password-" + letters()
    # Identity: the API, then the person's steps with the client secret alone.
    resp = stack.api("POST", "/v1/identity/verification_sessions",
                     [("type", "id_number"), ("provided_details[email]", email)], key=account_key,
                     headers={"Idempotency-Key": "plant-" + letters()})
    assert resp.status == 200, resp.body
    session, client_secret = resp.body["id"], resp.body["client_secret"]
    bearer = {"Authorization": f"Bearer {client_secret}"}
    assert stack.api("POST", "/identity/api/consent", [("accepted", "true")], headers=bearer).status == 200
    resp = stack.api("POST", "/identity/api/data", [("first_name", first), ("last_name", last), ("dob", "1980-02-03"),
                                                    ("id_number", "000000000"), ("id_number_country", "US")],
                     headers=bearer)
    assert resp.status == 200, resp.body
    assert stack.api("POST", "/identity/api/submit", headers=bearer).status == 200

    def verified():
        got = stack.api("GET", f"/v1/identity/verification_sessions/{session}", [("expand[]", "verified_outputs")],
                        key=account_key).body
        return got["status"] == "verified" and got["verified_outputs"]["first_name"] == first

    assert wait_for(verified, 20), "the session was not verified with the planted name"
    # Install links: a new app (its signing secret), a webhook endpoint (its
    # whsec_), and a sign-in with a wrong password.
    resp = stack.api("POST", "/v1/apps/apps", [("id", "com.plant." + letters()), ("name", "Plant")], key=account_key)
    assert resp.status == 200, resp.body
    signing_secret = resp.body["signing_secret"]
    resp = stack.api("POST", "/v1/webhook_endpoints",
                     [("url", "http://127.0.0.1:9/planted"), ("enabled_events[]", "account.application.authorized")],
                     key=account_key, headers={"Idempotency-Key": "plant-" + letters()})
    assert resp.status == 200, resp.body
    whsec = resp.body["secret"]
    # Gone again, so that no later test's events queue up for it.
    assert stack.api("DELETE", f"/v1/webhook_endpoints/{resp.body['id']}", key=account_key).status == 200
    user = stack.users[0]
    last_resp = stack.api("POST", "/apps/install/login", body=encode_form([("email", user["email"]), ("password", password)]),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert last_resp.status == 401

    values = [email, first, last, password, client_secret, signing_secret, whsec]
    dump = subprocess.run(["pg_dump", "--schema=core", "--data-only"], env=stack.pg_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, check=True).stdout
    for value in values:
        for form in forms(value):
            assert form not in dump, f"{form[:16]}... is in the core schema"
    for log, text in stack.service_logs(after=last_resp).items():
        for value in values:
            assert value not in text, f"{value[:16]}... is in {log}"
