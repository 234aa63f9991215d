"""install_signature against stripe-python (Debian's python3-stripe 5.0.0):
stripe.WebhookSignature.verify_header accepts the signature of a real install
redirect over the payload an app's backend rebuilds from the redirect's query
(JSON.stringify({state, user_id, account_id}); without a state, the state key
is left out), and refuses it when account_id, user_id, state or the secret
differ.

The redirect comes from the install pages themselves: sign in as usr_dev2,
open the install link of com.example.app (already installed on acct_dev1, so
installing again keeps that installation and changes nothing), install."""

import json
import re
import urllib.parse

import pytest
import stripe
from stackapi import Stack, StackMissing, encode_form

APP = "com.example.app"
TOLERANCE = 300


@pytest.fixture(scope="module")
def stack():
    try:
        return Stack.from_env()
    except StackMissing as e:
        missing = str(e)
    pytest.fail(missing, pytrace=False)


def payload_of(query):
    """What an app's backend signs over: the JSON.stringify bytes of
    {state, user_id, account_id}, state left out when the redirect has none."""
    obj = {"state": query["state"]} if "state" in query else {}
    obj.update(user_id=query["user_id"], account_id=query["account_id"])
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def redirect_query(stack, state):
    """Walks sign-in, the consent page and install; returns the redirect's
    query as a dict."""
    user = next(u for u in stack.users if u["id"] == "usr_dev2")
    resp = stack.api(
        "POST",
        "/apps/install/login",
        [("email", user["email"]), ("password", user["password"])],
    )
    assert resp.status == 303, resp.body
    cookie = [("Cookie", resp.headers["Set-Cookie"].split(";", 1)[0])]
    path = f"/apps/install/link/{APP}"
    query = [("state", state)] if state is not None else []
    page = stack.api("GET", path + ("?" + encode_form(query) if query else ""), headers=cookie)
    assert page.status == 200, page.body
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.body.decode()).group(1)
    form = [("csrf_token", token), ("account", "acct_dev1"), ("action", "install")] + query
    resp = stack.api(
        "POST", path, headers=cookie + [("Content-Type", "application/x-www-form-urlencoded")], body=encode_form(form)
    )
    assert resp.status == 303, resp.body
    pairs = urllib.parse.parse_qsl(urllib.parse.urlsplit(resp.headers["Location"]).query, keep_blank_values=True)
    return dict(pairs)


def secret_of(stack):
    return next(a for a in stack.apps if a["id"] == APP)["signing_secret"]


def verify(payload, header, secret):
    return stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=TOLERANCE)


@pytest.mark.parametrize(
    "state",
    [
        "csrf-123",
        'quotes " and \\ backslash, / slash, tab\tand newline\n',
        "非ASCII ✓ café 😀",
        "",
        None,
    ],
    ids=["plain", "escapes", "non-ascii", "empty", "absent"],
)
def test_verify_header_accepts_the_redirect(stack, state):
    q = redirect_query(stack, state)
    assert q["user_id"] == "usr_dev2" and q["account_id"] == "acct_dev1"
    assert ("state" in q) == (state is not None) and q.get("state") == state
    assert verify(payload_of(q), q["install_signature"], secret_of(stack)) is True


@pytest.mark.parametrize(
    "change",
    [
        lambda q: q.update(account_id="acct_dev2"),
        lambda q: q.update(user_id="usr_dev1"),
        lambda q: q.update(state="csrf-124"),
        lambda q: q.pop("state"),
    ],
    ids=["account_id", "user_id", "state", "state dropped"],
)
def test_verify_header_refuses_changed_values(stack, change):
    q = redirect_query(stack, "csrf-123")
    header = q.pop("install_signature")
    change(q)
    with pytest.raises(stripe.error.SignatureVerificationError):
        verify(payload_of(q), header, secret_of(stack))


def test_verify_header_refuses_another_secret(stack):
    q = redirect_query(stack, "csrf-123")
    other = next(a for a in stack.apps if a["id"] == "com.example.other")["signing_secret"]
    with pytest.raises(stripe.error.SignatureVerificationError):
        verify(payload_of(q), q["install_signature"], other)
    with pytest.raises(stripe.error.SignatureVerificationError):
        verify(payload_of(q), q["install_signature"], secret_of(stack) + "x")


def test_state_null_is_not_state_absent(stack):
    """A verifier that signs {"state":null,...} (Ruby's JSON.dump of a nil
    state, as the documentation's snippet would) does not match a redirect
    without a state: the key must be left out."""
    q = redirect_query(stack, None)
    wrong = json.dumps({"state": None, "user_id": q["user_id"], "account_id": q["account_id"]}, separators=(",", ":"))
    with pytest.raises(stripe.error.SignatureVerificationError):
        verify(wrong, q["install_signature"], secret_of(stack))
