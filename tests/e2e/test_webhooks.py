"""Webhook endpoints (/v1/webhook_endpoints) and webhook delivery, through
nginx against a running stack.

Delivery tests need quick retries: the stack's services must run with
INST_WEBHOOK_RETRY_BASE=1 (tests/run.sh exports it). Events are written as
core.events rows with psql, as any service's cm_event_emit() writes them: the
fan-out trigger creates the deliveries on insert. Each test receives on its
own local HTTP server and counts only its own events, because other tests
(and other services) emit events for the same accounts at the same time."""

import http.server
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import stripe
from stackapi import assert_stripe_error, wait_for

EP = "/v1/webhook_endpoints"
APP = "com.example.app"
REDACTED = "identity.verification_session.redacted"
AUTHORIZED = "account.application.authorized"


class Receiver:
    """A local webhook receiver. answers: the HTTP statuses to give, in
    order, per event id (the last one repeats); default 200. Records every
    request as (event id, headers, raw body, time)."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.hits = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    event_id = json.loads(body)["id"]
                except (ValueError, KeyError, TypeError):
                    event_id = None
                with receiver.lock:
                    n = sum(1 for h in receiver.hits if h[0] == event_id)
                    receiver.hits.append((event_id, dict(self.headers), body, time.time()))
                    status = receiver.answers[min(n, len(receiver.answers) - 1)] if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of(self, event_id):
        with self.lock:
            return [h for h in self.hits if h[0] == event_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(answers=()):
        r = Receiver(answers)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def endpoints(stack):
    """create(key, **params) makes an endpoint and deletes it after the test."""
    made = []

    def create(key, url, events, extra=()):
        params = [("url", url)] + [("enabled_events[]", e) for e in events] + list(extra)
        r = stack.api("POST", EP, params, key=key)
        assert r.status == 200, r.body
        made.append((key, r.body["id"]))
        return r.body

    yield create
    for key, ep in made:
        stack.api("DELETE", f"{EP}/{ep}", key=key)


def emit(stack, type_, account="acct_dev1", app=APP, livemode=False, obj=None):
    """Writes one event as cm_event_emit() does; returns its id."""
    eid = "evt_" + secrets.token_hex(12)
    obj = obj or {"id": "ca_test", "object": "application", "name": "Example"}
    stack.psql(
        "INSERT INTO core.events (id, type, account_id, app_id, livemode, data)"
        " VALUES (:'p1', :'p2', NULLIF(:'p3', ''), NULLIF(:'p4', ''), :'p5'::boolean,"
        " jsonb_build_object('object', :'p6'::jsonb));",
        eid, type_, account or "", app or "", "true" if livemode else "false", json.dumps(obj),
    )
    return eid


def deliveries(stack, event_id, endpoint_id):
    rows = stack.psql(
        "SELECT d.state, d.attempts, count(a.id), string_agg(coalesce(a.status_code::text, '-'), ','"
        " ORDER BY a.attempt) FROM core.event_deliveries d LEFT JOIN core.delivery_attempts a"
        " ON a.delivery_id = d.id WHERE d.event_id = :'p1' AND d.endpoint_id = :'p2' GROUP BY d.id;",
        event_id, endpoint_id,
    )
    return rows


def key(stack, i=0, live=False):
    return stack.accounts[i]["live_secret_key" if live else "secret_key"]


def app_key(stack, live=False):
    app = next(a for a in stack.apps if a["id"] == APP)
    return app["live_secret_key" if live else "secret_key"]


# --- endpoint CRUD ---------------------------------------------------------


def test_create_returns_secret_once(stack, endpoints):
    k = key(stack)
    ep = endpoints(k, "https://example.com/hooks", ["*", AUTHORIZED],
                   [("description", "main"), ("metadata[team]", "core"), ("api_version", "2024-06-20")])
    assert ep["object"] == "webhook_endpoint"
    assert ep["id"].startswith("we_") and len(ep["id"]) == 27
    assert ep["secret"].startswith("whsec_") and len(ep["secret"]) == 38
    assert ep["secret"][6:].isalnum()
    assert ep["url"] == "https://example.com/hooks"
    assert ep["enabled_events"] == ["*", AUTHORIZED]
    assert ep["status"] == "enabled" and ep["livemode"] is False
    assert ep["application"] is None and ep["api_version"] == "2024-06-20"
    assert ep["description"] == "main" and ep["metadata"] == {"team": "core"}
    assert isinstance(ep["created"], int) and abs(ep["created"] - time.time()) < 60

    got = stack.api("GET", f"{EP}/{ep['id']}", key=k)
    assert got.status == 200
    assert "secret" not in got.body
    assert {k2: v for k2, v in ep.items() if k2 != "secret"} == got.body
    listed = stack.api("GET", EP, [("limit", "100")], key=k)
    mine = [e for e in listed.body["data"] if e["id"] == ep["id"]]
    assert len(mine) == 1 and "secret" not in mine[0]


def test_secret_sealed_at_rest(stack, endpoints):
    ep = endpoints(key(stack), "https://example.com/sealed", ["*"])
    rows = stack.psql(
        "SELECT position(convert_to(:'p1', 'UTF8') IN secret_sealed), length(secret_sealed),"
        " secret_key_id FROM core.webhook_endpoints WHERE id = :'p2';",
        ep["secret"], ep["id"],
    )
    assert rows[0][0] == "0" and int(rows[0][1]) == 38 + 28 and rows[0][2]
    env = stack.pg_env()
    dump = subprocess.run(["pg_dump", "--schema=core", "--data-only"], env=env,
                          stdout=subprocess.PIPE, check=True, timeout=120).stdout
    assert b"whsec_" not in dump
    assert ep["secret"][6:].encode() not in dump


def test_update_fields(stack, endpoints):
    k = key(stack)
    ep = endpoints(k, "https://example.com/a", [AUTHORIZED],
                   [("description", "d1"), ("metadata[a]", "1"), ("metadata[b]", "2")])
    r = stack.api("POST", f"{EP}/{ep['id']}", [
        ("url", "https://example.com/b"), ("enabled_events[]", "account.application.deauthorized"),
        ("enabled_events[]", AUTHORIZED), ("enabled_events[]", AUTHORIZED),
        ("description", ""), ("metadata[a]", ""), ("metadata[c]", "3"), ("disabled", "true")], key=k)
    assert r.status == 200, r.body
    assert r.body["url"] == "https://example.com/b"
    assert r.body["enabled_events"] == ["account.application.deauthorized", AUTHORIZED]
    assert r.body["description"] is None
    assert r.body["metadata"] == {"b": "2", "c": "3"}
    assert r.body["status"] == "disabled" and "secret" not in r.body
    r = stack.api("POST", f"{EP}/{ep['id']}", [("disabled", "false"), ("metadata", "")], key=k)
    assert r.body["status"] == "enabled" and r.body["metadata"] == {}
    assert r.body["url"] == "https://example.com/b"


def test_delete(stack, endpoints):
    k = key(stack)
    ep = endpoints(k, "https://example.com/del", ["*"])
    r = stack.api("DELETE", f"{EP}/{ep['id']}", key=k)
    assert r.status == 200 and r.body == {"id": ep["id"], "object": "webhook_endpoint", "deleted": True}
    for method, params in (("GET", ()), ("POST", [("description", "x")]), ("DELETE", ())):
        r = stack.api(method, f"{EP}/{ep['id']}", params, key=k)
        assert_stripe_error(r, 404, f"No such webhook endpoint: '{ep['id']}'", code="resource_missing")
    listed = stack.api("GET", EP, [("limit", "100")], key=k)
    assert ep["id"] not in [e["id"] for e in listed.body["data"]]


def test_isolation_between_accounts_modes_and_apps(stack, endpoints):
    mine = endpoints(key(stack), "https://example.com/mine", ["*"])
    for other in (key(stack, 1), key(stack, 0, live=True), app_key(stack)):
        r = stack.api("GET", f"{EP}/{mine['id']}", key=other)
        assert_stripe_error(r, 404, code="resource_missing")
        r = stack.api("POST", f"{EP}/{mine['id']}", [("disabled", "true")], key=other)
        assert_stripe_error(r, 404, code="resource_missing")
        r = stack.api("DELETE", f"{EP}/{mine['id']}", key=other)
        assert_stripe_error(r, 404, code="resource_missing")
        listed = stack.api("GET", EP, [("limit", "100")], key=other)
        assert mine["id"] not in [e["id"] for e in listed.body["data"]]
    app_ep = endpoints(app_key(stack), "https://example.com/app", [AUTHORIZED])
    assert app_ep["application"] == APP
    # The app's endpoint is the app's, whatever account it acts for.
    r = stack.api("GET", f"{EP}/{app_ep['id']}", key=app_key(stack), headers={"Stripe-Account": "acct_dev2"})
    assert r.status == 200 and r.body["application"] == APP
    assert stack.api("GET", f"{EP}/{app_ep['id']}", key=key(stack)).status == 404


def test_list_pagination(stack, endpoints):
    k = key(stack, 1)
    made = [endpoints(k, f"https://example.com/p{i}", ["*"])["id"] for i in range(5)]
    newest_first = list(reversed(made))
    page = stack.api("GET", EP, [("limit", "2")], key=k).body
    assert page["object"] == "list" and page["url"] == EP and page["has_more"] is True
    got = [e["id"] for e in page["data"]]
    while page["has_more"]:
        page = stack.api("GET", EP, [("limit", "2"), ("starting_after", got[-1])], key=k).body
        got += [e["id"] for e in page["data"]]
    assert [i for i in got if i in made] == newest_first
    back = stack.api("GET", EP, [("limit", "2"), ("ending_before", newest_first[3])], key=k).body
    assert [e["id"] for e in back["data"]] == newest_first[1:3] and back["has_more"] is True
    r = stack.api("GET", EP, [("starting_after", "we_nope")], key=k)
    assert_stripe_error(r, 400, code="resource_missing")
    assert r.error["param"] == "starting_after"
    r = stack.api("GET", EP, [("ending_before", made[0])], key=key(stack, 0))
    assert_stripe_error(r, 400, code="resource_missing")
    assert r.error["param"] == "ending_before"


def test_endpoint_limit(stack, endpoints):
    k = key(stack, 1, live=True)
    for i in range(16):
        endpoints(k, f"https://example.com/l{i}", ["*"])
    r = stack.api("POST", EP, [("url", "https://example.com/l16"), ("enabled_events[]", "*")], key=k)
    assert_stripe_error(r, 400, "You have reached the maximum of 16 webhook endpoints")


CREATE_ERRORS = [
    ([("enabled_events[]", "*")], "url", "parameter_missing"),
    ([("url", ""), ("enabled_events[]", "*")], "url", "parameter_invalid_empty"),
    ([("url", "example.com/x"), ("enabled_events[]", "*")], "url", "url_invalid"),
    ([("url", "ftp://example.com/x"), ("enabled_events[]", "*")], "url", "url_invalid"),
    ([("url", "https:///x"), ("enabled_events[]", "*")], "url", "url_invalid"),
    ([("url", "https://exa mple.com/"), ("enabled_events[]", "*")], "url", "url_invalid"),
    ([("url", "https://example.com/" + "a" * 2100), ("enabled_events[]", "*")], "url", "url_invalid"),
    ([("url", "https://example.com/x")], "enabled_events", "parameter_missing"),
    ([("url", "https://example.com/x"), ("enabled_events", "*")], "enabled_events", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "nope.happened")], "enabled_events[0]", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("enabled_events[]", "account.*")],
     "enabled_events[1]", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("api_version", "2099-01-01")],
     "api_version", None),
    # Values whose echo in the message a byte count would cut inside a
    # character: still a 400, never a 500.
    ([("url", "https://example.com/x"), ("enabled_events[]", "a" * 79 + "\u00e9")], "enabled_events[0]", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("api_version", "a" + "\u00e9" * 40)],
     "api_version", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("connect", "maybe")], "connect", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("connect", "true")], "connect", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("description", "x" * 5001)],
     "description", None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("metadata[" + "k" * 41 + "]", "v")],
     None, None),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("secret", "whsec_mine")], "secret",
     "parameter_unknown"),
    ([("url", "https://example.com/x"), ("enabled_events[]", "*"), ("expand[]", "secret")], "expand", None),
]


@pytest.mark.parametrize("params,param,code", CREATE_ERRORS)
def test_create_rejects(stack, params, param, code):
    k = key(stack)
    before = stack.psql("SELECT count(*) FROM core.webhook_endpoints;")
    r = stack.api("POST", EP, params, key=k)
    assert_stripe_error(r, 400, code=code)
    if param is not None:
        assert r.error["param"] == param, r.error
    else:
        assert r.error["param"].startswith("metadata"), r.error
    assert stack.psql("SELECT count(*) FROM core.webhook_endpoints;") == before


def test_https_required_in_live_mode(stack, endpoints):
    live = key(stack, 0, live=True)
    r = stack.api("POST", EP, [("url", "http://127.0.0.1:9/hook"), ("enabled_events[]", "*")], key=live)
    assert_stripe_error(r, 400, "Invalid URL: live mode", code="url_invalid")
    assert r.error["param"] == "url"
    ep = endpoints(live, "https://127.0.0.1:9/hook", ["*"])
    assert ep["livemode"] is True
    r = stack.api("POST", f"{EP}/{ep['id']}", [("url", "http://127.0.0.1:9/x")], key=live)
    assert_stripe_error(r, 400, code="url_invalid")
    test_ep = endpoints(key(stack), "http://127.0.0.1:9/hook", ["*"])
    assert test_ep["url"] == "http://127.0.0.1:9/hook" and test_ep["livemode"] is False


def test_update_rejects(stack, endpoints):
    k = key(stack)
    ep = endpoints(k, "https://example.com/u", ["*"])
    for params, param in (
        ([("url", "nope")], "url"),
        ([("enabled_events[]", "bogus")], "enabled_events[0]"),
        ([("disabled", "perhaps")], "disabled"),
        ([("api_version", "2024-06-20")], "api_version"),
        ([("status", "disabled")], "status"),
    ):
        r = stack.api("POST", f"{EP}/{ep['id']}", params, key=k)
        assert_stripe_error(r, 400)
        assert r.error["param"] == param
    assert stack.api("GET", f"{EP}/{ep['id']}", key=k).body["url"] == "https://example.com/u"


def test_auth_required(stack):
    r = stack.api("GET", EP)
    assert_stripe_error(r, 401)
    r = stack.api("POST", EP, [("url", "https://example.com/x"), ("enabled_events[]", "*")])
    assert_stripe_error(r, 401)


# --- delivery ----------------------------------------------------------------


def wait_state(stack, event_id, endpoint_id, state, timeout=30):
    assert wait_for(lambda: (deliveries(stack, event_id, endpoint_id) or [("",)])[0][0] == state, timeout), \
        deliveries(stack, event_id, endpoint_id)


def test_delivery_signed_and_exact(stack, endpoints, receiver):
    rec = receiver()
    ep = endpoints(key(stack), rec.url, [AUTHORIZED])
    eid = emit(stack, AUTHORIZED, obj={"id": "ca_x", "object": "application", "name": "Ünïcode ✓"})
    assert wait_for(lambda: rec.of(eid), 30)
    _, headers, body, _ = rec.of(eid)[0]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    sig = headers["Stripe-Signature"]
    assert " " not in sig
    event = stripe.Webhook.construct_event(body, sig, ep["secret"])
    assert event["id"] == eid and event["type"] == AUTHORIZED and event["account"] == "acct_dev1"
    assert event["data"]["object"]["name"] == "Ünïcode ✓"
    assert event["pending_webhooks"] >= 1
    with pytest.raises(stripe.error.SignatureVerificationError):
        stripe.Webhook.construct_event(body + b" ", sig, ep["secret"])
    with pytest.raises(stripe.error.SignatureVerificationError):
        stripe.Webhook.construct_event(body, sig, "whsec_" + "x" * 32)
    # The delivered body is the event as the API shows it.
    api = stack.api("GET", f"/v1/events/{eid}", key=key(stack)).body
    delivered = json.loads(body)
    assert {k: v for k, v in delivered.items() if k != "pending_webhooks"} == \
        {k: v for k, v in api.items() if k != "pending_webhooks"}
    wait_state(stack, eid, ep["id"], "succeeded")
    # pending_webhooks: deliveries of the event (to any endpoint of the
    # account, other tests' too) that have not succeeded.
    unsucceeded = stack.psql("SELECT count(*) FROM core.event_deliveries WHERE event_id = :'p1'"
                             " AND state IN ('pending', 'failed');", eid)[0][0]
    assert stack.api("GET", f"/v1/events/{eid}", key=key(stack)).body["pending_webhooks"] == int(unsucceeded)


def test_retries_until_success_then_stops(stack, endpoints, receiver):
    rec = receiver([500, 500, 200])
    ep = endpoints(key(stack), rec.url, [AUTHORIZED])
    eid = emit(stack, AUTHORIZED)
    wait_state(stack, eid, ep["id"], "succeeded", timeout=60)
    time.sleep(4)  # well past the next backoff steps: nothing more comes
    hits = rec.of(eid)
    assert len(hits) == 3, [h[3] for h in hits]
    # Backoff: the retries are spaced (base 1 s: 1 s, then 2 s).
    assert hits[1][3] - hits[0][3] >= 0.9 and hits[2][3] - hits[1][3] >= 1.9
    rows = stack.psql(
        "SELECT a.attempt, a.status_code, a.succeeded, a.duration_ms >= 0, a.error IS NULL"
        " FROM core.delivery_attempts a JOIN core.event_deliveries d ON d.id = a.delivery_id"
        " WHERE d.event_id = :'p1' AND d.endpoint_id = :'p2' ORDER BY a.attempt;", eid, ep["id"])
    assert rows == [("1", "500", "f", "t", "t"), ("2", "500", "f", "t", "t"), ("3", "200", "t", "t", "t")]
    assert deliveries(stack, eid, ep["id"])[0][:2] == ("succeeded", "3")


def test_redirect_and_unreachable_are_failures(stack, endpoints, receiver):
    rec = receiver([302, 200])
    ep = endpoints(key(stack), rec.url, [AUTHORIZED])
    dead = endpoints(key(stack), "http://127.0.0.1:9/hook", [AUTHORIZED])
    eid = emit(stack, AUTHORIZED)
    wait_state(stack, eid, ep["id"], "succeeded")
    assert len(rec.of(eid)) == 2
    assert wait_for(lambda: int(deliveries(stack, eid, dead["id"])[0][2]) >= 2, 30)
    rows = stack.psql(
        "SELECT a.status_code IS NULL, a.error LIKE '%connect%', a.succeeded FROM core.delivery_attempts a"
        " JOIN core.event_deliveries d ON d.id = a.delivery_id WHERE d.event_id = :'p1'"
        " AND d.endpoint_id = :'p2' ORDER BY a.attempt LIMIT 1;", eid, dead["id"])
    assert rows == [("t", "t", "f")]
    # Still failing: the event is pending for that endpoint.
    assert stack.api("GET", f"/v1/events/{eid}", key=key(stack)).body["pending_webhooks"] >= 1
    listed = stack.api("GET", "/v1/events", [("delivery_success", "false"), ("limit", "100")],
                       key=key(stack)).body
    assert eid in [e["id"] for e in listed["data"]]


def test_retry_window_ends_in_failed(stack, endpoints):
    ep = endpoints(key(stack), "http://127.0.0.1:9/window", [AUTHORIZED])
    eid = emit(stack, AUTHORIZED)
    # Age the delivery past the 3-day window: the next failure is final.
    stack.psql("UPDATE core.event_deliveries SET created = now() - interval '4 days'"
               " WHERE event_id = :'p1' AND endpoint_id = :'p2';", eid, ep["id"])
    wait_state(stack, eid, ep["id"], "failed")
    state, attempts, count, _ = deliveries(stack, eid, ep["id"])[0]
    assert int(count) == int(attempts) >= 1
    time.sleep(3)
    assert deliveries(stack, eid, ep["id"])[0][2] == count


def test_enabled_types_only(stack, endpoints, receiver):
    named, star, other = receiver(), receiver(), receiver()
    endpoints(key(stack), named.url, [REDACTED])
    endpoints(key(stack), star.url, ["*"])
    endpoints(key(stack), other.url, ["account.application.deauthorized"])
    vs = {"id": "vs_" + secrets.token_hex(8), "object": "identity.verification_session"}
    redacted = emit(stack, REDACTED, app=None, obj=vs)
    authorized = emit(stack, AUTHORIZED)
    assert wait_for(lambda: named.of(redacted) and star.of(authorized), 30)
    time.sleep(3)
    assert len(named.of(redacted)) == 1 and not named.of(authorized)
    assert len(star.of(authorized)) == 1 and not star.of(redacted)
    assert not other.of(redacted) and not other.of(authorized)


def test_endpoints_get_only_their_owners_events(stack, endpoints, receiver):
    acct1, acct2, live, app, other_app = (receiver() for _ in range(5))
    endpoints(key(stack, 0), acct1.url, ["*"])
    endpoints(key(stack, 1), acct2.url, ["*"])
    live_ep = endpoints(key(stack, 0, live=True), live.url.replace("http://", "https://"), ["*"])
    endpoints(app_key(stack), app.url, ["*"])
    other = next(a for a in stack.apps if a["id"] != APP)
    endpoints(other["secret_key"], other_app.url, ["*"])
    e1 = emit(stack, AUTHORIZED, account="acct_dev1")
    e2 = emit(stack, AUTHORIZED, account="acct_dev2")
    e3 = emit(stack, AUTHORIZED, account="acct_dev2", app=None)
    assert wait_for(lambda: acct1.of(e1) and acct2.of(e2) and acct2.of(e3) and app.of(e1) and app.of(e2), 30)
    time.sleep(2)
    assert not acct1.of(e2) and not acct1.of(e3) and not acct2.of(e1)
    assert not app.of(e3)  # not the app's event
    assert not other_app.of(e1) and not other_app.of(e2) and not other_app.of(e3)
    # Test-mode events never reach a live endpoint.
    assert stack.psql("SELECT count(*) FROM core.event_deliveries WHERE endpoint_id = :'p1';",
                      live_ep["id"]) == [("0",)]


def test_disable_and_delete_stop_deliveries(stack, endpoints, receiver):
    k = key(stack)
    failing, disabled_rec, deleted_rec = receiver([500]), receiver(), receiver()
    retrying = endpoints(k, failing.url, [AUTHORIZED])
    dis = endpoints(k, disabled_rec.url, [AUTHORIZED])
    dele = endpoints(k, deleted_rec.url, [AUTHORIZED])
    first = emit(stack, AUTHORIZED)
    assert wait_for(lambda: len(failing.of(first)) >= 2, 30)
    assert stack.api("DELETE", f"{EP}/{retrying['id']}", key=k).status == 200
    assert deliveries(stack, first, retrying["id"])[0][0] == "canceled"
    seen = len(failing.of(first))
    assert stack.api("POST", f"{EP}/{dis['id']}", [("disabled", "true")], key=k).status == 200
    assert stack.api("DELETE", f"{EP}/{dele['id']}", key=k).status == 200
    second = emit(stack, AUTHORIZED)
    time.sleep(5)
    assert len(failing.of(first)) <= seen + 1  # at most one attempt already in flight
    assert not disabled_rec.of(second) and not deleted_rec.of(second)
    assert stack.psql("SELECT count(*) FROM core.event_deliveries WHERE event_id = :'p1'"
                      " AND endpoint_id IN (:'p2', :'p3', :'p4');",
                      second, retrying["id"], dis["id"], dele["id"]) == [("0",)]
    # Enabled again: new events flow, the old ones stay undelivered.
    assert stack.api("POST", f"{EP}/{dis['id']}", [("disabled", "false")], key=k).status == 200
    third = emit(stack, AUTHORIZED)
    assert wait_for(lambda: disabled_rec.of(third), 30)
    assert not disabled_rec.of(second)


def second_instance(stack, sock, log):
    """A second svc-install process against the same database, delivering
    (debug logging: one line per delivery round)."""
    pid = int((stack.dir / "run" / "svc-install.pid").read_text())
    binary = os.readlink(f"/proc/{pid}/exe")
    env = stack.pg_env()
    env.update(PGUSER="svc_install", PGAPPNAME="svc-install-second", CM_LISTEN=str(sock),
               CM_KEY_FILE=str(stack.dir / "keys"), INST_DELIVERY="1", INST_WEBHOOK_RETRY_BASE="1",
               INST_WEBHOOK_BATCH="8", CM_THREADS="2", CM_BASE_URL=stack.base_url, CM_LOG_LEVEL="debug")
    with open(log, "ab") as out:
        return subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True)


def test_two_instances_deliver_each_event_once(stack, endpoints, receiver, tmp_path):
    # A slow receiver keeps both workers busy at once: 200 events at 0.2 s a
    # round take longer than a worker's idle wait (1 s).
    rec = receiver([200])
    handler = rec.server.RequestHandlerClass
    post = handler.do_POST

    def slow_post(self):
        time.sleep(0.2)
        post(self)

    handler.do_POST = slow_post
    ep = endpoints(key(stack), rec.url, [AUTHORIZED])
    log = tmp_path / "second.log"
    proc = second_instance(stack, tmp_path / "second.sock", log)
    try:
        assert wait_for(lambda: (tmp_path / "second.sock").exists(), 20), log.read_text()
        # One statement: both workers find all 200 due at once.
        rows = stack.psql(
            "INSERT INTO core.events (id, type, account_id, app_id, livemode, data)"
            " SELECT 'evt_twice' || :'p1' || g, :'p2', 'acct_dev1', :'p3', false,"
            " '{\"object\": {\"id\": \"ca_x\", \"object\": \"application\", \"name\": null}}'"
            " FROM generate_series(1, 200) g RETURNING id;", secrets.token_hex(6), AUTHORIZED, APP)
        ids = [r[0] for r in rows]
        assert len(ids) == 200
        assert wait_for(lambda: all(rec.of(i) for i in ids), 120)
        time.sleep(3)
        counts = {i: len(rec.of(i)) for i in ids}
        assert set(counts.values()) == {1}, {i: c for i, c in counts.items() if c != 1}
        attempts = stack.psql(
            "SELECT count(*), count(DISTINCT d.id), bool_and(a.succeeded) FROM core.delivery_attempts a"
            " JOIN core.event_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = :'p1';", ep["id"])
        assert attempts == [("200", "200", "t")]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    # Both instances delivered some (the second one's rounds are in its log;
    # the events it did not attempt went through the stack's own instance).
    # A round may also carry other tests' deliveries, so only bounds hold.
    rounds = [line for line in log.read_text().splitlines() if "webhooks: " in line and " attempted" in line]
    second = sum(int(line.split("webhooks: ")[1].split(" attempted")[0]) for line in rounds)
    assert second > 0, log.read_text()[-2000:]


def test_a_backlog_on_one_endpoint_does_not_hold_up_another(stack, endpoints, receiver):
    """An endpoint with a backlog of slow deliveries gets at most a few of
    each round, so another endpoint's event still goes out within seconds
    instead of waiting behind the whole backlog (16 a round at 2 s each)."""
    slow = receiver([200])
    handler = slow.server.RequestHandlerClass
    post = handler.do_POST

    def slow_post(self):
        time.sleep(2)
        post(self)

    handler.do_POST = slow_post
    backlog = endpoints(key(stack), slow.url, ["account.application.deauthorized"])
    fast = receiver([200])
    endpoints(key(stack), fast.url, [AUTHORIZED])
    stack.psql(
        "INSERT INTO core.events (id, type, account_id, app_id, livemode, data)"
        " SELECT 'evt_backlog' || :'p1' || g, 'account.application.deauthorized', 'acct_dev1', :'p2', false,"
        " '{\"object\": {\"id\": \"ca_x\", \"object\": \"application\", \"name\": null}}'"
        " FROM generate_series(1, 160) g;", secrets.token_hex(6), APP)
    assert wait_for(lambda: slow.hits, 10), "the backlog never started"  # the worker is in its rounds now
    eid = emit(stack, AUTHORIZED)
    sent = time.time()
    assert wait_for(lambda: fast.of(eid), 30), "the other endpoint's event never came"
    # Without the per-endpoint cap the backlog's 160 deliveries, 16 a round
    # at 2 s, would keep it waiting 20 s.
    assert fast.of(eid)[0][3] - sent < 10
    stack.api("DELETE", f"{EP}/{backlog['id']}", key=key(stack))  # cancels what is left
