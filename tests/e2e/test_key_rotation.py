"""Rotating the encryption key while the Secret Store keeps its secrets: the
README's procedure, step by step, against the running stack.

stage a key (known to every instance, not active) -> restart -> activate it
-> restart -> svc-secrets --rotate-keys re-seals the old rows -> remove the
old key -> restart: every secret still opens, and every row names the new key.
"""

import os
import subprocess
import uuid

from stackapi import REPO


def keygen(*args):
    out = subprocess.run([str(REPO / "deploy" / "keygen.sh"), *args], check=True,
                         stdout=subprocess.PIPE, text=True)
    return out.stdout.strip()


def key_ids(path):
    return [line.split()[0] for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_key_rotation_keeps_every_secret(stack):
    app = stack.apps[0]
    account = app["installed_on"][0]
    user = "usr_rot" + uuid.uuid4().hex[:12]
    headers = {"Stripe-Account": account}
    keyfile = stack.dev_json.parent / "keys"
    secrets = {f"rot-{i}": f"payload-{i}-{uuid.uuid4().hex}" for i in range(3)}

    def set_secret(name, payload):
        resp = stack.api("POST", "/v1/apps/secrets", [("name", name), ("payload", payload),
                         ("scope[type]", "user"), ("scope[user]", user)],
                         key=app["secret_key"], headers=headers)
        assert resp.status == 200, resp.body

    def payload_of(name):
        resp = stack.api("GET", "/v1/apps/secrets/find", [("name", name), ("scope[type]", "user"),
                         ("scope[user]", user), ("expand[]", "payload")],
                         key=app["secret_key"], headers=headers)
        assert resp.status == 200, resp.body
        return resp.body["payload"]

    def row_keys():
        rows = stack.psql("SELECT DISTINCT key_id FROM secrets.secrets WHERE scope_user = :'p1'", user)
        return {r[0] for r in rows}

    for name, payload in secrets.items():
        set_secret(name, payload)
    old = key_ids(keyfile)[-1]
    assert row_keys() == {old}

    new = keygen("--stage", str(keyfile))
    assert key_ids(keyfile)[-1] == old and new in key_ids(keyfile)
    stack.stack_sh("restart-services")
    set_secret("rot-staged", "still-old-key")
    assert row_keys() == {old}, "a staged key must not seal anything yet"

    keygen("--activate", str(keyfile), new)
    assert key_ids(keyfile)[-1] == new
    stack.stack_sh("restart-services")
    set_secret("rot-new", "sealed-under-new")
    assert row_keys() == {old, new}
    assert {n: payload_of(n) for n in secrets} == secrets

    env = dict(stack.pg_env(), CM_KEY_FILE=str(keyfile), PGUSER="svc_secrets")
    binary = os.path.join(os.environ.get("BIN_DIR", str(REPO / "build")), "svc-secrets")
    done = subprocess.run([binary, "--rotate-keys"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    assert "re-sealed" in done.stdout
    assert stack.psql("SELECT count(*) FROM secrets.secrets WHERE key_id <> :'p1'", new) == [("0",)]

    keyfile.write_text("".join(line + "\n" for line in keyfile.read_text().splitlines()
                               if not line.startswith(old + " ")))
    assert old not in key_ids(keyfile)
    stack.stack_sh("restart-services")
    assert {n: payload_of(n) for n in secrets} == secrets
    assert payload_of("rot-staged") == "still-old-key"
    assert payload_of("rot-new") == "sealed-under-new"
    # No payload in the rotator's output either.
    assert not any(p in done.stdout for p in secrets.values())
