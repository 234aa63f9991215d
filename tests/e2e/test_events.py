"""The events API (/v1/events): list with its filters and pagination,
retrieve, and who sees which events (accounts, apps, modes), through nginx.

Events are written as core.events rows with psql, as cm_event_emit() writes
them, but without fanning out to webhook endpoints, so that pending_webhooks
and delivery_success depend only on what each test sets up. Each test puts its events at a random second far in the past and
lists with a created range around it, so events of other tests (and of
real flows) never show up in its pages."""

import json
import random
import secrets

import pytest

from stackapi import assert_stripe_error

APP = "com.example.app"
AUTHORIZED = "account.application.authorized"
DEAUTHORIZED = "account.application.deauthorized"
VERIFIED = "identity.verification_session.verified"


def key(stack, i=0, live=False):
    return stack.accounts[i]["live_secret_key" if live else "secret_key"]


def app_key(stack, app=APP):
    return next(a for a in stack.apps if a["id"] == app)["secret_key"]


@pytest.fixture
def base():
    """A second of its own between 2001 and 2011: this test's time window."""
    return random.randrange(978307200, 1293840000) // 1000 * 1000


def emit(stack, type_, created, account="acct_dev1", app=APP, livemode=False, obj=None, request=None):
    eid = "evt_" + secrets.token_hex(12)
    obj = obj or {"id": "ca_test", "object": "application", "name": "Example"}
    # Without the fan-out trigger (replica role): endpoints that other tests
    # left on these accounts must not give these events deliveries.
    stack.psql(
        "SET session_replication_role = replica;"
        " INSERT INTO core.events (id, type, account_id, app_id, livemode, created, request_id, data)"
        " VALUES (:'p1', :'p2', NULLIF(:'p3', ''), NULLIF(:'p4', ''), :'p5'::boolean,"
        " to_timestamp(:'p6'::double precision), NULLIF(:'p7', ''), jsonb_build_object('object', :'p8'::jsonb));",
        eid, type_, account or "", app or "", "true" if livemode else "false", created, request or "",
        json.dumps(obj),
    )
    return eid


def window(base, extra=()):
    return [("created[gte]", str(base)), ("created[lt]", str(base + 1000)), ("limit", "100")] + list(extra)


def ids(resp):
    assert resp.status == 200, resp.body
    assert resp.body["object"] == "list" and resp.body["url"] == "/v1/events"
    return [e["id"] for e in resp.body["data"]]


def test_retrieve_renders_the_event(stack, base):
    eid = emit(stack, AUTHORIZED, base + 0.75, request="req_" + "a" * 24)
    r = stack.api("GET", f"/v1/events/{eid}", key=key(stack))
    assert r.status == 200
    assert r.body == {
        "id": eid,
        "object": "event",
        "account": "acct_dev1",
        "api_version": None,
        "created": base,
        "data": {"object": {"id": "ca_test", "object": "application", "name": "Example"}},
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": "req_" + "a" * 24, "idempotency_key": None},
        "type": AUTHORIZED,
    }


def test_list_newest_first_and_paginates(stack, base):
    made = [emit(stack, AUTHORIZED, base + i) for i in range(7)]
    # Two in the same second: the later insert is the newer.
    made.append(emit(stack, AUTHORIZED, base + 6))
    newest = list(reversed(made))
    assert ids(stack.api("GET", "/v1/events", window(base), key=key(stack))) == newest
    got, after = [], None
    while True:
        extra = [("limit", "3")] + ([("starting_after", after)] if after else [])
        page = stack.api("GET", "/v1/events", window(base)[:2] + extra, key=key(stack))
        got += ids(page)
        if not page.body["has_more"]:
            break
        after = got[-1]
    assert got == newest
    back = stack.api("GET", "/v1/events", window(base)[:2] + [("limit", "3"), ("ending_before", newest[5])],
                     key=key(stack))
    assert ids(back) == newest[2:5] and back.body["has_more"] is True
    back = stack.api("GET", "/v1/events", window(base)[:2] + [("limit", "3"), ("ending_before", newest[2])],
                     key=key(stack))
    assert ids(back) == newest[0:2] and back.body["has_more"] is False
    end = stack.api("GET", "/v1/events", window(base)[:2] + [("starting_after", newest[-1])], key=key(stack))
    assert ids(end) == [] and end.body["has_more"] is False


def test_type_filters(stack, base):
    a = emit(stack, AUTHORIZED, base + 1)
    d = emit(stack, DEAUTHORIZED, base + 2)
    v = emit(stack, VERIFIED, base + 3, app=None, obj={"id": "vs_1", "object": "identity.verification_session"})
    k = key(stack)
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", AUTHORIZED)]), key=k)) == [a]
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", "account.application.*")]), key=k)) == [d, a]
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", "*.verified")]), key=k)) == [v]
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", "*")]), key=k)) == [v, d, a]
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", "identity.verification_session.*")]),
                         key=k)) == [v]
    # '_' is a literal, not LIKE's any-character (which would match the '.').
    assert ids(stack.api("GET", "/v1/events", window(base, [("type", "account_application.*")]), key=k)) == []
    assert ids(stack.api("GET", "/v1/events",
                         window(base, [("types[]", VERIFIED), ("types[]", AUTHORIZED)]), key=k)) == [v, a]
    assert ids(stack.api("GET", "/v1/events", window(base, [("types[]", "account.application.*")]), key=k)) == []


TYPE_ERRORS = [
    ([("type", AUTHORIZED), ("types[]", AUTHORIZED)], "types"),
    ([("types[]", f"a.b{i}") for i in range(21)], "types"),
    ([("type", "Account.Updated")], "type"),
    ([("type", "account.%")], "type"),
    ([("type", "x" * 129)], "type"),
    ([("type", "")], "type"),
    ([("types", AUTHORIZED)], "types"),
    ([("created[gt]", "yesterday")], "created[gt]"),
    ([("created[after]", "1")], "created[after]"),
    ([("created", "soon")], "created"),
    ([("delivery_success", "maybe")], "delivery_success"),
    ([("limit", "0")], "limit"),
    ([("limit", "101")], "limit"),
    ([("starting_after", "evt_x"), ("ending_before", "evt_y")], "ending_before"),
    ([("expand[]", "data.request")], "expand"),
    ([("account", "acct_dev2")], "account"),
]


@pytest.mark.parametrize("params,param", TYPE_ERRORS)
def test_list_rejects(stack, params, param):
    r = stack.api("GET", "/v1/events", params, key=key(stack))
    assert_stripe_error(r, 400)
    assert r.error["param"] == param, r.error


def test_created_filters(stack, base):
    e = {s: emit(stack, AUTHORIZED, base + s + 0.5) for s in (10, 11, 12, 13)}
    k = key(stack)

    def listed(params):
        return ids(stack.api("GET", "/v1/events", params + [("limit", "100")], key=k))

    assert listed([("created", str(base + 11))]) == [e[11]]
    assert listed([("created[gt]", str(base + 11)), ("created[lte]", str(base + 13))]) == [e[13], e[12]]
    assert listed([("created[gte]", str(base + 11)), ("created[lt]", str(base + 13))]) == [e[12], e[11]]
    assert listed([("created[gt]", str(base + 13)), ("created[lt]", str(base + 1000))]) == []
    assert listed([("created[gte]", str(base + 12)), ("created[lt]", str(base + 12))]) == []
    assert listed([("created[gte]", str(base + 10)), ("created[lte]", str(base + 10))]) == [e[10]]


def test_delivery_success_filter(stack, base):
    ok = emit(stack, AUTHORIZED, base + 1)
    failing = emit(stack, AUTHORIZED, base + 2)
    # A delivery that has not succeeded (as the fan-out would create it for
    # an endpoint that keeps failing).
    ep = stack.api("POST", "/v1/webhook_endpoints",
                   [("url", "http://127.0.0.1:9/never"), ("enabled_events[]", DEAUTHORIZED)], key=key(stack)).body
    try:
        stack.psql("INSERT INTO core.event_deliveries (event_id, endpoint_id, livemode, state, finished_at)"
                   " VALUES (:'p1', :'p2', false, 'failed', now());", failing, ep["id"])
        k = key(stack)
        assert ids(stack.api("GET", "/v1/events", window(base, [("delivery_success", "false")]), key=k)) == [failing]
        assert ids(stack.api("GET", "/v1/events", window(base, [("delivery_success", "true")]), key=k)) == [ok]
        assert stack.api("GET", f"/v1/events/{failing}", key=k).body["pending_webhooks"] == 1
        assert stack.api("GET", f"/v1/events/{ok}", key=k).body["pending_webhooks"] == 0
    finally:
        stack.api("DELETE", f"/v1/webhook_endpoints/{ep['id']}", key=key(stack))


def test_isolation(stack, base):
    acct1_app = emit(stack, AUTHORIZED, base + 1, account="acct_dev1")
    acct2_app = emit(stack, AUTHORIZED, base + 2, account="acct_dev2")
    acct2_own = emit(stack, VERIFIED, base + 3, account="acct_dev2", app=None)
    live1 = emit(stack, AUTHORIZED, base + 4, account="acct_dev1", livemode=True)
    other_app = emit(stack, AUTHORIZED, base + 5, account="acct_dev1", app="com.example.other")
    cases = [
        (key(stack, 0), {}, [other_app, acct1_app]),
        (key(stack, 1), {}, [acct2_own, acct2_app]),
        (key(stack, 0, live=True), {}, [live1]),
        (app_key(stack), {}, [acct2_app, acct1_app]),
        (app_key(stack), {"Stripe-Account": "acct_dev2"}, [acct2_app]),
        (app_key(stack), {"Stripe-Account": "acct_dev1"}, [acct1_app]),
        (app_key(stack, "com.example.other"), {}, [other_app]),
    ]
    everything = {acct1_app, acct2_app, acct2_own, live1, other_app}
    for k, headers, want in cases:
        assert ids(stack.api("GET", "/v1/events", window(base), key=k, headers=headers)) == want, (k[:12], headers)
        for eid in everything:
            r = stack.api("GET", f"/v1/events/{eid}", key=k, headers=headers)
            if eid in want:
                assert r.status == 200 and r.body["id"] == eid
            else:
                assert_stripe_error(r, 404, f"No such event: '{eid}'", code="resource_missing")
                assert r.error["param"] == "id"
        # A cursor from somebody else's events is no cursor at all.
        for eid in everything - set(want):
            r = stack.api("GET", "/v1/events", [("starting_after", eid)], key=k, headers=headers)
            assert_stripe_error(r, 400, code="resource_missing")
            assert r.error["param"] == "starting_after"


def test_auth_required(stack):
    assert_stripe_error(stack.api("GET", "/v1/events"), 401)
    assert_stripe_error(stack.api("GET", "/v1/events/evt_123"), 401)


def test_unknown_event(stack):
    r = stack.api("GET", "/v1/events/evt_doesnotexist", key=key(stack))
    assert_stripe_error(r, 404, "No such event: 'evt_doesnotexist'", code="resource_missing")
