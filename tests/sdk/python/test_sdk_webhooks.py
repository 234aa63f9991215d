"""Webhook endpoints and events through stripe-python (Debian's
python3-stripe 5.0.0): WebhookEndpoint create/retrieve/modify/list/delete,
Event list/retrieve, and stripe.Webhook.construct_event on a body the stack
delivered to a receiver in this process."""

import http.server
import json
import secrets
import threading
import time

import pytest
import stripe
from stackapi import wait_for

# The stack and the SDK globals pointed at it (autouse).
from test_sdk_foundation import configured, stack  # noqa: F401 (fixtures)

AUTHORIZED = "account.application.authorized"


@pytest.fixture
def receiver():
    """A local HTTP server that answers 200 and keeps (headers, body) of each POST."""
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()
    server.server_close()


def test_endpoint_lifecycle(stack):
    api_key = stack.accounts[0]["secret_key"]
    ep = stripe.WebhookEndpoint.create(
        url="https://example.com/sdk", enabled_events=[AUTHORIZED, "account.application.deauthorized"],
        description="from the SDK", metadata={"k": "v"}, api_key=api_key)
    try:
        assert isinstance(ep, stripe.WebhookEndpoint) and ep.id.startswith("we_")
        assert ep.secret.startswith("whsec_")
        assert ep.enabled_events == [AUTHORIZED, "account.application.deauthorized"]
        got = stripe.WebhookEndpoint.retrieve(ep.id, api_key=api_key)
        assert got.url == "https://example.com/sdk" and "secret" not in got
        assert got.metadata.to_dict() == {"k": "v"}
        # python3-stripe 5.0 would send a Python bool as "True": pass the
        # wire form (cm_param_bool takes "true"/"false" only).
        changed = stripe.WebhookEndpoint.modify(ep.id, disabled="true", enabled_events=["*"],
                                                metadata={"k": "", "n": "1"}, api_key=api_key)
        assert changed.status == "disabled" and changed.enabled_events == ["*"]
        assert changed.metadata.to_dict() == {"n": "1"}
        listed = stripe.WebhookEndpoint.list(limit=100, api_key=api_key)
        assert ep.id in [e.id for e in listed.auto_paging_iter()]
        with pytest.raises(stripe.error.InvalidRequestError) as exc:
            stripe.WebhookEndpoint.create(url="ftp://example.com", enabled_events=["*"], api_key=api_key)
        assert exc.value.http_status == 400 and exc.value.error.param == "url"
        with pytest.raises(stripe.error.InvalidRequestError) as exc:
            stripe.WebhookEndpoint.create(url="https://example.com", enabled_events=["nope"], api_key=api_key)
        assert exc.value.error.param == "enabled_events[0]"
    finally:
        deleted = stripe.WebhookEndpoint.delete(ep.id, api_key=api_key)
    assert deleted.deleted is True and deleted.id == ep.id
    with pytest.raises(stripe.error.InvalidRequestError) as exc:
        stripe.WebhookEndpoint.retrieve(ep.id, api_key=api_key)
    assert exc.value.http_status == 404 and exc.value.error.code == "resource_missing"


def test_delivered_event_verifies(stack, receiver):
    url, got = receiver
    api_key = stack.accounts[0]["secret_key"]
    ep = stripe.WebhookEndpoint.create(url=url, enabled_events=[AUTHORIZED], api_key=api_key)
    try:
        eid = "evt_" + secrets.token_hex(12)
        stack.psql(
            "INSERT INTO core.events (id, type, account_id, app_id, livemode, data) VALUES (:'p1', :'p2',"
            " 'acct_dev1', 'com.example.app', false,"
            " '{\"object\": {\"id\": \"ca_sdk\", \"object\": \"application\", \"name\": \"SDK app\"}}');",
            eid, AUTHORIZED)

        def mine():
            return [(h, b) for h, b in got if json.loads(b)["id"] == eid]

        assert wait_for(mine, 30)
        headers, body = mine()[0]
        event = stripe.Webhook.construct_event(body.decode("utf-8"), headers["Stripe-Signature"], ep.secret)
        assert isinstance(event, stripe.Event)
        assert event.id == eid and event.type == AUTHORIZED and event.account == "acct_dev1"
        assert event.data.object.id == "ca_sdk" and event.data.object.name == "SDK app"
        with pytest.raises(stripe.error.SignatureVerificationError):
            stripe.Webhook.construct_event(body.decode("utf-8"), headers["Stripe-Signature"],
                                           "whsec_" + "0" * 32)
        # The same event through the events API.
        fetched = stripe.Event.retrieve(eid, api_key=api_key)
        assert fetched.id == eid and fetched.data.object.name == "SDK app"
        listed = stripe.Event.list(type="account.application.*", created={"gte": int(time.time()) - 600},
                                   limit=100, api_key=api_key)
        assert eid in [e.id for e in listed.auto_paging_iter()]
        assert all(e.type.startswith("account.application.") for e in listed.data)
        only = stripe.Event.list(types=[AUTHORIZED], limit=3, api_key=api_key)
        assert all(e.type == AUTHORIZED for e in only.data)
        assert eid in [e.id for e in only.data]  # the newest event of that type
    finally:
        stripe.WebhookEndpoint.delete(ep.id, api_key=api_key)
