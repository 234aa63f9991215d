"""The apps management API through stripe-python (Debian's python3-stripe
5.0.0). The SDK has no resource class for apps.app, so the calls go through
its generic APIRequestor, exactly as a resource class would send them: the
SDK's own form encoding (spaces as '+', nested brackets), its headers (an
automatic Idempotency-Key on every POST) and its error classes. Responses
become StripeObjects and lists ListObjects, whose auto-paging walks our
pagination."""

import json
import secrets
import string

import pytest
import stripe
from stackapi import REQUEST_ID

# The stack and the SDK globals pointed at it (autouse).
from test_sdk_foundation import configured, stack  # noqa: F401 (fixtures)

APPS = "/v1/apps/apps"
ALNUM = string.ascii_letters + string.digits


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def call(key, method, url, params=None, headers=None):
    """One request through the SDK; the response as a StripeObject."""
    requestor = stripe.api_requestor.APIRequestor(key=key)
    resp, api_key = requestor.request(method, url, params, headers)
    assert REQUEST_ID.match(resp.request_id or ""), resp.headers
    return stripe.util.convert_to_stripe_object(resp, api_key, None, None)


@pytest.fixture
def key(stack):
    return stack.accounts[0]["secret_key"]


@pytest.fixture
def app(key):
    return call(key, "post", APPS, {"id": f"com.test.{rand().lower()}", "name": "SDK app"})


def test_create_and_retrieve(key, app):
    assert app.object == "apps.app"
    assert app.signing_secret.startswith("absec_") and len(app.signing_secret) == 38
    assert app.application.startswith("ca_")
    got = call(key, "get", f"{APPS}/{app.id}")
    assert got.id == app.id and got.name == "SDK app"
    assert "signing_secret" not in got


def test_form_encoding_round_trips_a_manifest(key, app):
    """A manifest whose text holds every character form encoding cares about
    ('+', '&', '=', '%', brackets, spaces, non-ASCII) arrives intact."""
    name = "Fish & Chips + Co. 100% [beta] = ✓"
    purpose = "Reads a+b=c & more"
    doc = {
        "id": app.id,
        "version": "1.0.0-rc.1",
        "name": name,
        "permissions": [{"permission": "customer_read", "purpose": purpose}],
        "allowed_redirect_uris": ["https://example.com/cb?a=1&b=%20x", "http://localhost:8000/cb"],
    }
    v = call(key, "post", f"{APPS}/{app.id}/versions", {"manifest": json.dumps(doc, ensure_ascii=False)})
    assert v.object == "apps.app_version"
    assert v.name == name
    assert v.permissions[0].purpose == purpose
    assert v.allowed_redirect_uris == doc["allowed_redirect_uris"]
    assert call(key, "get", f"{APPS}/{app.id}/versions/1.0.0-rc.1").name == name


def test_publish_external_test_and_roll(key, app):
    for version in ("1.0.0", "1.1.0"):
        call(key, "post", f"{APPS}/{app.id}/versions",
             {"manifest": json.dumps({"id": app.id, "version": version, "name": "SDK app",
                                      "allowed_redirect_uris": ["https://example.com/cb"]})})
    published = call(key, "post", f"{APPS}/{app.id}/versions/1.1.0/publish")
    assert published.published is True
    assert call(key, "get", f"{APPS}/{app.id}").published_version == "1.1.0"

    test = call(key, "post", f"{APPS}/{app.id}/external_test", {"version": "1.0.0"})
    assert test.object == "apps.external_test" and "/apps/install/link/tlnk_" in test.install_link
    moved = call(key, "post", f"{APPS}/{app.id}/external_test", {"version": "1.1.0"})
    assert moved.install_link == test.install_link and moved.version == "1.1.0"

    rolled = call(key, "post", f"{APPS}/{app.id}/signing_secret/roll")
    assert rolled.signing_secret.startswith("absec_") and rolled.signing_secret != app.signing_secret


def test_auto_paging_walks_every_version(key, app):
    made = [f"1.{i}.0" for i in range(5)]
    for version in made:
        call(key, "post", f"{APPS}/{app.id}/versions",
             {"manifest": json.dumps({"id": app.id, "version": version, "name": "v"})})
    page = call(key, "get", f"{APPS}/{app.id}/versions", {"limit": 2})
    assert isinstance(page, stripe.ListObject) and page.has_more is True
    assert [v.version for v in page.auto_paging_iter()] == made[::-1]


def test_idempotency_key_replays_the_create(key):
    params = {"id": f"com.test.{rand().lower()}", "name": "Once"}
    headers = {"Idempotency-Key": f"sdk-apps-{rand()}"}
    first = call(key, "post", APPS, params, headers)
    again = call(key, "post", APPS, params, headers)
    assert again.signing_secret == first.signing_secret
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"


def test_errors_arrive_as_sdk_exceptions(stack, key, app):
    bad = {"id": app.id, "version": "1.0.0", "name": "x",
           "permissions": [{"permission": "everything_write", "purpose": "p"}]}
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        call(key, "post", f"{APPS}/{app.id}/versions", {"manifest": json.dumps(bad)})
    assert info.value.http_status == 400
    assert info.value.param == "manifest[permissions][0][permission]"

    with pytest.raises(stripe.error.InvalidRequestError) as info:
        call(stack.accounts[1]["secret_key"], "get", f"{APPS}/{app.id}")
    assert info.value.http_status == 404 and info.value.code == "resource_missing"

    with pytest.raises(stripe.error.PermissionError) as info:
        call(stack.apps[0]["secret_key"], "get", APPS)
    assert info.value.http_status == 403
