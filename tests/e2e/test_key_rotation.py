"""Rotating the encryption key with data in every place a service seals it:
the README's procedure, step by step, against the running stack.

Before: a Secret Store secret, an app's signing secret, a webhook endpoint's
secret, and identity data (a session's provided details, a verified
session's outputs and report, an uploaded document photo and a draft), all
under the old key. Then: stage a key (known to every instance, not active) ->
restart -> activate it -> restart -> `--rotate-keys` of svc-secrets,
svc-install and svc-identity, each as its own role -> no row names any other
key -> remove the old key -> restart -> everything still opens: the secrets,
the signing secrets (and `--seal-signing-secrets` still runs), the endpoint
still signs its deliveries, and the identity data reads back and the checks
can still open the photo.

The rest of the suite runs after this on the same stack with the old key
gone, which covers the dev fixture's data (its apps sign install redirects).
"""

import http.server
import json
import os
import secrets
import subprocess
import threading
import uuid

import stripe
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stackapi import REPO, wait_for
from test_identity_page import PASSPORT_DATA, call, passport_ready, retrieve, wait_status

# Every column naming the key of a sealed value, and the condition under which
# a row of it still needs the old key (install.apps: also a staged plaintext
# secret, which --rotate-keys seals). A new one must be rotated, and added here.
KEY_COLUMNS = {
    "secrets.secrets.key_id": "SELECT count(*) FROM secrets.secrets WHERE key_id <> :'p1'",
    "install.apps.signing_key_id": "SELECT count(*) FROM install.apps WHERE signing_secret IS NOT NULL"
    " OR (signing_secret_sealed IS NOT NULL AND signing_key_id IS DISTINCT FROM :'p1')",
    "core.webhook_endpoints.secret_key_id":
        "SELECT count(*) FROM core.webhook_endpoints WHERE secret_key_id <> :'p1'",
    "identity.sessions.key_id": "SELECT count(*) FROM identity.sessions WHERE key_id <> :'p1'",
    "identity.files.key_id": "SELECT count(*) FROM identity.files WHERE key_id <> :'p1'",
    "identity.reports.key_id": "SELECT count(*) FROM identity.reports WHERE key_id <> :'p1'",
}
SESSIONS = "/v1/identity/verification_sessions"
REPORTS = "/v1/identity/verification_reports"
PAYMENT = "payment_intent.succeeded"


def keygen(*args):
    out = subprocess.run([str(REPO / "deploy" / "keygen.sh"), *args], check=True,
                         stdout=subprocess.PIPE, text=True)
    return out.stdout.strip()


def key_ids(path):
    return [line.split()[0] for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def open_sealed(keyfile, key_id, blob, *aad_parts):
    """Opens what cm_seal() made: AES-256-GCM under the key file's key_id,
    blob = nonce(12) || ciphertext || tag(16), associated data as
    cm_aad_build() writes the parts."""
    keys = dict(line.split() for line in keyfile.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#"))
    aad = b"".join(len(p).to_bytes(4, "big") + p for p in (s.encode() for s in aad_parts))
    return AESGCM(bytes.fromhex(keys[key_id])).decrypt(blob[:12], blob[12:], aad).decode()


def quote(literal):
    """A SQL string literal of a key id (letters and digits only)."""
    assert literal.isalnum(), literal
    return f"'{literal}'"


def run_service(stack, keyfile, service, *args, expect=0):
    """Runs BIN_DIR/<service> ARGS as the service's own role; its output,
    once it exited with status expect."""
    env = dict(stack.pg_env(), CM_KEY_FILE=str(keyfile), PGUSER=service.replace("-", "_"))
    binary = os.path.join(os.environ.get("BIN_DIR", str(REPO / "build")), service)
    done = subprocess.run([binary, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    assert done.returncode == expect, f"{service} {' '.join(args)} exited {done.returncode}:\n{done.stdout}"
    return done.stdout


class RowLock:
    """Holds FOR UPDATE on the rows of sql (as the superuser, in a psql of
    its own) until the with block ends: a live request that keeps a row."""

    def __init__(self, stack, sql):
        self.psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"], env=stack.pg_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.psql.stdin.write(f"BEGIN;\n{sql} FOR UPDATE;\n\\echo rowlock-held\n")
        self.psql.stdin.flush()
        for line in self.psql.stdout:
            if line.strip() == "rowlock-held":
                break
        else:
            raise AssertionError("psql ended before it held the lock")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.psql.communicate("ROLLBACK;\n", timeout=30)


class Receiver:
    """A local webhook receiver recording (headers, raw body) per event id."""

    def __init__(self):
        self.hits = {}
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hits.setdefault(json.loads(body)["id"], (dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def emit(stack, account):
    """Writes one event as cm_event_emit() does (the fan-out trigger makes
    its deliveries); returns its id."""
    eid = "evt_" + secrets.token_hex(12)
    stack.psql("INSERT INTO core.events (id, type, account_id, livemode, data) VALUES"
               " (:'p1', :'p2', :'p3', false, jsonb_build_object('object', jsonb_build_object("
               "'id', 'pi_rotation', 'object', 'payment_intent')));", eid, PAYMENT, account)
    return eid


def test_every_sealed_column_is_known(stack):
    """Rotation covers exactly the key id columns the schema has."""
    rows = stack.psql("SELECT table_schema || '.' || table_name || '.' || column_name"
                      " FROM information_schema.columns WHERE column_name ~ 'key_id$'"
                      " AND table_schema NOT IN ('pg_catalog', 'information_schema');")
    assert {r[0] for r in rows} == set(KEY_COLUMNS)


def test_key_rotation_keeps_every_sealed_value(stack):
    app = stack.apps[0]
    account = stack.accounts[0]
    keyfile = stack.dev_json.parent / "keys"
    user = "usr_rot" + uuid.uuid4().hex[:12]
    headers = {"Stripe-Account": app["installed_on"][0]}
    payloads = {f"rot-{i}": f"payload-{i}-{uuid.uuid4().hex}" for i in range(3)}
    email = f"rot-{uuid.uuid4().hex[:10]}@example.com"

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

    def secret_keys():
        rows = stack.psql("SELECT DISTINCT key_id FROM secrets.secrets WHERE scope_user = :'p1'", user)
        return {r[0] for r in rows}

    def row_key(sql, row_id):
        rows = stack.psql(sql, row_id)
        assert len(rows) == 1, rows
        return rows[0][0]

    def signing_secret_at_rest(app_id):
        rows = stack.psql("SELECT signing_secret IS NULL, signing_key_id,"
                          " encode(signing_secret_sealed, 'hex') FROM install.apps WHERE id = :'p1'",
                          app_id)
        assert len(rows) == 1 and rows[0][0] == "t", rows
        return rows[0][1], open_sealed(keyfile, rows[0][1], bytes.fromhex(rows[0][2]),
                                       "install.apps", app_id)

    # ---- data under the old key, in every sealed place --------------------
    for name, payload in payloads.items():
        set_secret(name, payload)
    old = key_ids(keyfile)[-1]
    assert secret_keys() == {old}

    made = stack.api("POST", "/v1/apps/apps", [("id", f"com.test.rot{uuid.uuid4().hex[:12]}"),
                     ("name", "Rotation")], key=account["secret_key"])
    assert made.status == 200, made.body
    new_app = made.body
    assert signing_secret_at_rest(new_app["id"]) == (old, new_app["signing_secret"])

    receiver = Receiver()
    endpoint = None
    try:
        resp = stack.api("POST", "/v1/webhook_endpoints", [("url", receiver.url),
                         ("enabled_events[]", PAYMENT)], key=account["secret_key"])
        assert resp.status == 200, resp.body
        endpoint = resp.body
        assert row_key("SELECT secret_key_id FROM core.webhook_endpoints WHERE id = :'p1'",
                       endpoint["id"]) == old

        api = stack.api
        key = account["secret_key"]
        # Verified before the rotation: provided details, verified outputs, a report.
        verified = passport_ready(api, key, None, ("provided_details[email]", email))
        assert call(api, "/identity/api/submit", verified["client_secret"]).status == 200
        verified = wait_status(api, key, verified["id"], "verified")
        report_id = verified["last_verification_report"]
        # Waiting: consent, a document photo and the draft of its data, to be
        # submitted after the rotation.
        waiting = passport_ready(api, key)
        for table, row_id in (("sessions", verified["id"]), ("sessions", waiting["id"]),
                              ("reports", report_id)):
            assert row_key(f"SELECT key_id FROM identity.{table} WHERE id = :'p1'", row_id) == old
        assert row_key("SELECT DISTINCT key_id FROM identity.files WHERE session_id = :'p1'",
                       waiting["id"]) == old

        # ---- stage, restart, activate, restart ----------------------------
        new = keygen("--stage", str(keyfile))
        assert key_ids(keyfile)[-1] == old and new in key_ids(keyfile)
        stack.stack_sh("restart-services")
        set_secret("rot-staged", "still-old-key")
        assert secret_keys() == {old}, "a staged key must not seal anything yet"

        keygen("--activate", str(keyfile), new)
        assert key_ids(keyfile)[-1] == new
        stack.stack_sh("restart-services")
        set_secret("rot-new", "sealed-under-new")
        assert secret_keys() == {old, new}
        assert {n: payload_of(n) for n in payloads} == payloads

        # ---- a row held throughout a run is left, and the run says so ------
        with RowLock(stack, "SELECT id FROM secrets.secrets WHERE key_id = " + quote(old) + " LIMIT 1"):
            out = run_service(stack, keyfile, "svc-secrets", "--rotate-keys", expect=1)
        assert "secrets are still under older keys" in out, out

        # ---- re-seal everything, each service as its own role --------------
        outputs = {svc: run_service(stack, keyfile, svc, "--rotate-keys")
                   for svc in ("svc-secrets", "svc-install", "svc-identity")}
        assert "re-sealed" in outputs["svc-secrets"]
        assert "signing secrets" in outputs["svc-install"]
        assert "webhook endpoint secrets" in outputs["svc-install"]
        for table in ("sessions", "files", "reports"):
            assert f"identity.{table}" in outputs["svc-identity"]
        left = {column: stack.psql(sql, new)[0][0] for column, sql in KEY_COLUMNS.items()}
        assert left == {column: "0" for column in KEY_COLUMNS}
        # A second run finds nothing to do and still succeeds.
        assert " 0 webhook endpoint" in run_service(stack, keyfile, "svc-install", "--rotate-keys")

        keyfile.write_text("".join(line + "\n" for line in keyfile.read_text().splitlines()
                                   if not line.startswith(old + " ")))
        assert old not in key_ids(keyfile)
        stack.stack_sh("restart-services")

        # ---- everything opens under the new key alone ----------------------
        assert {n: payload_of(n) for n in payloads} == payloads
        assert payload_of("rot-staged") == "still-old-key"
        assert payload_of("rot-new") == "sealed-under-new"

        run_service(stack, keyfile, "svc-install", "--seal-signing-secrets")
        assert signing_secret_at_rest(new_app["id"]) == (new, new_app["signing_secret"])
        for fixture_app in stack.apps:
            assert signing_secret_at_rest(fixture_app["id"]) == (new, fixture_app["signing_secret"])

        eid = emit(stack, account["id"])
        assert wait_for(lambda: eid in receiver.hits, 30), "the endpoint never got its event"
        got_headers, body = receiver.hits[eid]
        event = stripe.Webhook.construct_event(body, got_headers["Stripe-Signature"], endpoint["secret"])
        assert event["id"] == eid

        again = retrieve(api, key, verified["id"], "provided_details", "verified_outputs",
                         "verified_outputs.dob")
        assert again["provided_details"]["email"] == email
        assert (again["verified_outputs"]["first_name"], again["verified_outputs"]["dob"]) == \
            ("Anna", {"day": 12, "month": 8, "year": 1974})
        report = api("GET", f"{REPORTS}/{report_id}", [("expand[]", "document.dob")], key=key)
        assert report.status == 200, report.body
        assert report.body["document"]["dob"] == {"day": 12, "month": 8, "year": 1974}
        # The hosted page opens the draft; the checks open the draft and the photo.
        state = call(api, "/identity/api/session", waiting["client_secret"], method="GET")
        assert state.status == 200, state.body
        assert state.body["uploaded"] == ["document_front"] and state.body["missing"] == []
        assert call(api, "/identity/api/submit", waiting["client_secret"]).status == 200
        done = wait_status(api, key, waiting["id"], "verified")
        assert done["verified_outputs"]["last_name"] == PASSPORT_DATA["last_name"]
    finally:
        receiver.close()
        if endpoint is not None:
            stack.api("DELETE", f"/v1/webhook_endpoints/{endpoint['id']}", key=account["secret_key"])

    # No value in any rotator's output.
    everything = "".join(outputs.values())
    for value in [*payloads.values(), new_app["signing_secret"], endpoint["secret"], email,
                  *(a["signing_secret"] for a in stack.apps)]:
        assert value not in everything
