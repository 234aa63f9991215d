"""The foundation seen through the web server: authentication, unknown URLs,
the body cap, the headers every response carries and Stripe-Account, checked
on one route of each service (the readiness paths of CONTRACTS.md)."""

import secrets
import string

import pytest
from stackapi import REQUEST_ID, SERVICE_ROUTES as ROUTES, assert_stripe_error

# One existing create route per service, for requests with a body.
POST_ROUTES = {
    "svc-secrets": "/v1/apps/secrets",
    "svc-identity": "/v1/identity/verification_sessions",
    "svc-install": "/v1/webhook_endpoints",
}
UNKNOWN_URLS = [
    ("GET", "/v1/x"),
    ("POST", "/v1/x"),
    ("DELETE", "/v1/x"),
    ("GET", "/v1/identity/nope"),
    ("GET", "/v1/apps/secrets/nope/more"),
    ("POST", "/v1/apps/secrets/nope/more"),
    ("GET", "/v1/apps/nope"),
    ("GET", "/v1/events/evt_1/nope"),
]
NO_KEY = "You did not provide an API key"
ALNUM = string.ascii_letters + string.digits


def random_key(prefix):
    """A well-formed key that no stack holds."""
    return prefix + "".join(secrets.choice(ALNUM) for _ in range(28))


def assert_authenticated(resp):
    """The key passed authentication (whatever the route then answered)."""
    assert resp.status not in (401, 403) and resp.status < 500, f"HTTP {resp.status}: {resp.body!r:.500}"
    assert REQUEST_ID.match(resp.headers.get("Request-Id", "")), resp.headers


def route_params(routes):
    return [pytest.param(path, id=service) for service, path in routes.items()]


@pytest.mark.smoke
@pytest.mark.parametrize("path", route_params(ROUTES))
def test_no_key_is_401(api, path):
    assert_stripe_error(api("GET", path), 401, NO_KEY)


@pytest.mark.parametrize(
    "authorization",
    ["Token sk_test_abc", "Bearer", "Bearer ", "Basic", "Basic !!!not-base64!!!"],
)
def test_malformed_authorization_is_401(api, authorization):
    resp = api("GET", ROUTES["svc-install"], headers={"Authorization": authorization})
    assert_stripe_error(resp, 401)


@pytest.mark.smoke
@pytest.mark.parametrize("scheme", ["bearer", "basic"])
@pytest.mark.parametrize("prefix", ["sk_test_", "sk_live_"])
@pytest.mark.parametrize("path", route_params(ROUTES))
def test_wrong_key_is_401_and_masked(api, path, prefix, scheme):
    key = random_key(prefix)
    resp = api("GET", path, **{"key" if scheme == "bearer" else "basic": key})
    err = assert_stripe_error(resp, 401)
    message = err["message"]
    assert "Invalid API Key provided" in message
    assert key[len(prefix) : -4] not in message
    assert key[-4:] in message
    assert prefix in message


# Routes an account's own key may call. The Secret Store authenticates an
# account key and then refuses it (only apps use it): test_secrets.py checks
# that, and test_app_key_on_installing_accounts_authenticates its keys.
ACCOUNT_KEY_ROUTES = {service: path for service, path in ROUTES.items() if service != "svc-secrets"}


@pytest.mark.smoke
@pytest.mark.parametrize("mode", ["secret_key", "live_secret_key"])
@pytest.mark.parametrize("path", route_params(ACCOUNT_KEY_ROUTES))
def test_test_and_live_keys_authenticate(stack, api, path, mode):
    for account in stack.accounts:
        assert_authenticated(api("GET", path, key=account[mode]))
        assert_authenticated(api("GET", path, basic=account[mode]))


@pytest.mark.parametrize("method,path", UNKNOWN_URLS)
def test_unknown_url_is_404(api, account_key, method, path):
    resp = api(method, path, key=account_key)
    assert_stripe_error(resp, 404, f"Unrecognized request URL ({method}: {path})")


@pytest.mark.parametrize("method,path", UNKNOWN_URLS)
def test_unknown_url_without_key(api, method, path):
    # An unknown /v1/ URL asks for a key first, so a keyless probe learns
    # nothing about which routes exist; with a valid key it is a 404.
    assert_stripe_error(api(method, path), 401, NO_KEY)


@pytest.mark.parametrize("path", ["/nope", "/v2/x"])
def test_unknown_path_outside_v1_is_404(api, path):
    assert_stripe_error(api("GET", path), 404, f"Unrecognized request URL (GET: {path})")


@pytest.mark.parametrize("path", [
    "/v1/apps/apps/%FF", "/v1/apps/apps/%FF/installations", "/v1/webhook_endpoints/%FF", "/v1/events/%FF",
    "/v1/identity/verification_sessions/%FF", "/v1/identity/verification_reports/%C0%AF",
    "/apps/install/link/%FF",
])
def test_an_id_that_is_not_utf8_is_an_unknown_url(api, account_key, path):
    """No id is anything but UTF-8 (and the database refuses it): the route
    does not match, so the answer is Stripe's 404, not a 500."""
    assert_stripe_error(api("GET", path, key=account_key), 404)


@pytest.mark.smoke
def test_unknown_url_message(api, account_key):
    err = assert_stripe_error(api("GET", "/v1/x", key=account_key), 404)
    assert err["message"] == (
        "Unrecognized request URL (GET: /v1/x). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )


@pytest.mark.smoke
@pytest.mark.parametrize("path", route_params(POST_ROUTES))
def test_body_over_the_cap_is_413(api, account_key, path):
    # Over every service's cap (svc-identity takes 8 MiB for document photos)
    # and under the web server's 16 MiB, so the service itself answers.
    body = b"metadata[big]=" + b"a" * (9 * 1024 * 1024)
    assert_stripe_error(api("POST", path, key=account_key, body=body), 413)


@pytest.mark.smoke
@pytest.mark.parametrize("version", ["2026-07-29.dahlia", "2026-06-24.dahlia", "2020-08-27"])
def test_stripe_version_is_echoed(api, account_key, version):
    for key in (None, account_key):
        resp = api("GET", "/v1/x", key=key, headers={"Stripe-Version": version})
        assert resp.headers.get("Stripe-Version") == version


def test_request_ids_are_unique(api, account_key):
    seen = set()
    for path in [*ROUTES.values(), "/v1/x"] * 5:
        request_id = api("GET", path, key=account_key).headers.get("Request-Id", "")
        assert REQUEST_ID.match(request_id), request_id
        assert request_id not in seen
        seen.add(request_id)


@pytest.mark.smoke
@pytest.mark.parametrize("mode", ["secret_key", "live_secret_key"])
@pytest.mark.parametrize("path", route_params(ROUTES))
def test_app_key_on_account_without_the_app_is_403(stack, api, path, mode):
    app = stack.apps[1]
    outsider = stack.accounts[1]["id"]
    assert outsider not in app["installed_on"], "fixture changed: app 2 must not be on account 2"
    resp = api("GET", path, key=app[mode], headers={"Stripe-Account": outsider})
    err = assert_stripe_error(resp, 403, code="account_invalid")
    assert app[mode][8:-4] not in err["message"]


@pytest.mark.parametrize(
    "account",
    ["acct_", "acct_nope", "not_an_account", "acct_1 acct_2", "acct_" + "A" * 300],
)
def test_malformed_stripe_account_is_403(stack, api, account):
    resp = api("GET", ROUTES["svc-install"], key=stack.apps[0]["secret_key"], headers={"Stripe-Account": account})
    assert_stripe_error(resp, 403)


@pytest.mark.parametrize("path", route_params(ROUTES))
def test_app_key_on_installing_accounts_authenticates(stack, api, path):
    for app in stack.apps:
        for account in app["installed_on"]:
            for mode in ("secret_key", "live_secret_key"):
                resp = api("GET", path, key=app[mode], headers={"Stripe-Account": account})
                assert_authenticated(resp)
