"""stripe-python (Debian's python3-stripe, 5.0.0: the legacy global
configuration, no StripeClient) against the stack: the foundation's errors
arrive as the SDK's own exception classes with their fields intact."""

import secrets
import string

import pytest
import stripe
from stackapi import REQUEST_ID, Stack, StackMissing

ALNUM = string.ascii_letters + string.digits
# One list call per service, with the resource classes the SDK generates.
LISTS = {
    "svc-secrets": lambda **kw: stripe.apps.Secret.list(scope={"type": "account"}, **kw),
    "svc-identity": lambda **kw: stripe.identity.VerificationSession.list(**kw),
    "svc-install": lambda **kw: stripe.Event.list(**kw),
}

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def stack():
    try:
        return Stack.from_env()
    except StackMissing as e:
        missing = str(e)
    pytest.fail(missing, pytrace=False)


@pytest.fixture(autouse=True)
def configured(stack, monkeypatch):
    """Points the SDK's globals at the stack for one test, then restores them."""
    monkeypatch.setattr(stripe, "api_base", stack.base_url)
    monkeypatch.setattr(stripe, "api_key", None)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    monkeypatch.setattr(stripe, "enable_telemetry", False)


def assert_error_fields(exc, status, message_start):
    """The parts of a StripeError an integration relies on."""
    assert exc.http_status == status
    assert REQUEST_ID.match(exc.request_id or ""), exc.request_id
    assert exc.error is not None, exc.http_body
    assert exc.error.type == "invalid_request_error"
    assert exc.error.message == exc.user_message
    assert exc.user_message.startswith(message_start), exc.user_message
    assert exc.json_body["error"]["message"] == exc.user_message


@pytest.mark.parametrize("service", LISTS)
def test_bad_key_is_authentication_error(service):
    key = "sk_test_" + "".join(secrets.choice(ALNUM) for _ in range(28))
    with pytest.raises(stripe.error.AuthenticationError) as info:
        LISTS[service](api_key=key)
    assert_error_fields(info.value, 401, "Invalid API Key provided")
    assert key[8:-4] not in info.value.user_message


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_path_is_invalid_request_error(stack, method):
    requestor = stripe.api_requestor.APIRequestor(key=stack.accounts[0]["secret_key"])
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        requestor.request(method, "/v1/x", {"a": "b"} if method == "post" else None)
    assert_error_fields(info.value, 404, f"Unrecognized request URL ({method.upper()}: /v1/x)")


@pytest.mark.parametrize("service", LISTS)
def test_app_key_on_account_without_the_app_is_permission_error(stack, service):
    app, outsider = stack.apps[1], stack.accounts[1]["id"]
    with pytest.raises(stripe.error.PermissionError) as info:
        LISTS[service](api_key=app["secret_key"], stripe_account=outsider)
    assert info.value.http_status == 403
    assert REQUEST_ID.match(info.value.request_id or "")
    assert info.value.error.code == "account_invalid"


def test_stripe_version_round_trips(stack):
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        stripe.api_requestor.APIRequestor(key=stack.accounts[0]["secret_key"], api_version="2026-06-24.dahlia").request(
            "get", "/v1/x"
        )
    assert info.value.headers.get("Stripe-Version") == "2026-06-24.dahlia"
