"""The Secret Store through stripe-python (Debian's python3-stripe 5.0.0,
which has stripe.apps.Secret with create, find, delete_where and list): the
seed's four calls in both scopes, as an app backend (app key plus
stripe_account) and as a dashboard extension (uxt_ token), auto-paging, and
the errors as the SDK's own exception classes."""

import secrets
import string
import time

import pytest
import stripe
from stackapi import REQUEST_ID

# The stack and the SDK globals pointed at it (autouse), shared with the
# foundation's SDK tests.
from test_sdk_foundation import configured, stack  # noqa: F401 (fixtures)

ALNUM = string.ascii_letters + string.digits
NEEDS_SECRET_WRITE = "Having the 'secret_write' permission would allow this request to continue."


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def user_scope(user=None):
    return {"type": "user", "user": user or "usr_" + rand(14)}


@pytest.fixture
def app(stack):
    """App 1 acting for account 2 (where it is installed) with its test key:
    keyword arguments for every SDK call."""
    return {"api_key": stack.apps[0]["secret_key"], "stripe_account": stack.accounts[1]["id"]}


def empty(scope, auth):
    for item in stripe.apps.Secret.list(scope=scope, limit=100, **auth).data:
        stripe.apps.Secret.delete_where(scope=scope, name=item.name, **auth)
    assert stripe.apps.Secret.list(scope=scope, **auth).data == []


def check_error(exc, cls, status, code, param):
    assert isinstance(exc, cls), repr(exc)
    assert exc.http_status == status
    assert REQUEST_ID.match(exc.request_id or ""), exc.request_id
    assert exc.error.code == code, exc.json_body
    assert exc.error.param == param, exc.json_body
    return exc


@pytest.mark.smoke
@pytest.mark.parametrize("kind", ["account", "user"])
def test_seed_calls(app, kind):
    scope = {"type": "account"} if kind == "account" else user_scope()
    empty(scope, app)
    name, payload = "secret_name_" + rand(), "secret value " + rand()

    created = stripe.apps.Secret.create(scope=scope, name=name, payload=payload, **app)
    assert isinstance(created, stripe.apps.Secret)
    assert created.id.startswith("appsecret_") and created.object == "apps.secret"
    assert created.name == name and created.livemode is False and created.expires_at is None
    assert created.scope.to_dict_recursive() == scope
    assert "payload" not in created

    found = stripe.apps.Secret.find(scope=scope, name=name, expand=["payload"], **app)
    assert isinstance(found, stripe.apps.Secret)
    assert found.id == created.id and found.payload == payload
    assert "payload" not in stripe.apps.Secret.find(scope=scope, name=name, **app)

    listed = stripe.apps.Secret.list(scope=scope, **app)
    assert isinstance(listed, stripe.ListObject) and listed.url == "/v1/apps/secrets"
    assert [s.id for s in listed.data] == [created.id] and listed.has_more is False
    assert all(isinstance(s, stripe.apps.Secret) and "payload" not in s for s in listed.data)
    expanded = stripe.apps.Secret.list(scope=scope, expand=["data.payload"], **app)
    assert [s.payload for s in expanded.data] == [payload]

    deleted = stripe.apps.Secret.delete_where(scope=scope, name=name, **app)
    assert deleted.id == created.id and deleted.deleted is True
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        stripe.apps.Secret.find(scope=scope, name=name, **app)
    check_error(info.value, stripe.error.InvalidRequestError, 404, "resource_missing", "name")


@pytest.mark.smoke
def test_replace_keeps_one_secret_per_name_and_scope(app):
    scope, name = user_scope(), "token"
    expires_at = int(time.time()) + 600
    first = stripe.apps.Secret.create(scope=scope, name=name, payload="one", expires_at=expires_at, **app)
    assert first.expires_at == expires_at
    second = stripe.apps.Secret.create(scope=scope, name=name, payload="two", **app)
    assert (second.id, second.created, second.expires_at) == (first.id, first.created, None)
    assert stripe.apps.Secret.find(scope=scope, name=name, expand=["payload"], **app).payload == "two"
    assert [s.id for s in stripe.apps.Secret.list(scope=scope, **app).data] == [first.id]


def test_live_key(stack):
    live = {"api_key": stack.apps[0]["live_secret_key"], "stripe_account": stack.accounts[1]["id"]}
    scope = user_scope()
    created = stripe.apps.Secret.create(scope=scope, name="n", payload="live", **live)
    assert created.livemode is True
    assert stripe.apps.Secret.find(scope=scope, name="n", expand=["payload"], **live).payload == "live"


def test_auto_paging_both_ways(app):
    scope = user_scope()
    made = [stripe.apps.Secret.create(scope=scope, name=f"n{i}", payload=f"p{i}", **app).id for i in range(10)]
    newest_first = made[::-1]
    page = stripe.apps.Secret.list(scope=scope, limit=3, **app)
    assert [s.id for s in page.auto_paging_iter()] == newest_first
    # With ending_before the SDK pages backwards and yields oldest first.
    older = stripe.apps.Secret.list(scope=scope, limit=3, ending_before=newest_first[-1], **app)
    assert [s.id for s in older.data] == newest_first[6:9] and older.has_more is True
    assert [s.id for s in older.auto_paging_iter()] == newest_first[-2::-1]


def test_extension_token(stack):
    """As the seed's UI extension does it: the dashboard's token instead of a key."""
    user2, acct2 = stack.users[1]["id"], stack.accounts[1]["id"]
    ext = {"api_key": stack.extension_token(user2, acct2, stack.apps[0]["id"])}
    scope = user_scope(user2)
    empty(scope, ext)
    created = stripe.apps.Secret.create(scope=scope, name="secret_name", payload="secret value", **ext)
    assert stripe.apps.Secret.find(scope=scope, name="secret_name", expand=["payload"], **ext).payload == "secret value"
    assert [s.id for s in stripe.apps.Secret.list(scope=scope, **ext).data] == [created.id]
    assert stripe.apps.Secret.delete_where(scope=scope, name="secret_name", **ext).deleted is True
    with pytest.raises(stripe.error.PermissionError) as info:
        stripe.apps.Secret.list(scope=user_scope(stack.users[0]["id"]), **ext)
    check_error(info.value, stripe.error.PermissionError, 403, None, "scope[user]")


def test_errors_are_the_sdk_classes(stack, app):
    scope = user_scope()
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        stripe.apps.Secret.create(scope={"type": "user"}, name="n", payload="p", **app)
    check_error(info.value, stripe.error.InvalidRequestError, 400, "parameter_missing", "scope[user]")

    with pytest.raises(stripe.error.InvalidRequestError) as info:
        stripe.apps.Secret.create(scope=scope, name="n", payload="p", expires_at=int(time.time()) - 60, **app)
    check_error(info.value, stripe.error.InvalidRequestError, 400, None, "expires_at")

    for i in range(10):
        stripe.apps.Secret.create(scope=scope, name=f"n{i}", payload="p", **app)
    with pytest.raises(stripe.error.InvalidRequestError) as info:
        stripe.apps.Secret.create(scope=scope, name="n10", payload="p", **app)
    assert "10" in check_error(info.value, stripe.error.InvalidRequestError, 400, None, None).user_message

    app2 = {"api_key": stack.apps[1]["secret_key"], "stripe_account": stack.accounts[0]["id"]}
    with pytest.raises(stripe.error.PermissionError) as info:
        stripe.apps.Secret.create(scope=scope, name="n", payload="p", **app2)
    assert NEEDS_SECRET_WRITE in check_error(info.value, stripe.error.PermissionError, 403, None, None).user_message
    assert stripe.apps.Secret.list(scope=scope, **app2).data == []

    with pytest.raises(stripe.error.PermissionError) as info:
        stripe.apps.Secret.list(scope=scope, api_key=stack.accounts[0]["secret_key"])
    check_error(info.value, stripe.error.PermissionError, 403, None, None)


def test_idempotency_error(app):
    scope, key = user_scope(), "idem-" + rand(24)
    first = stripe.apps.Secret.create(scope=scope, name="n", payload="p", idempotency_key=key, **app)
    again = stripe.apps.Secret.create(scope=scope, name="n", payload="p", idempotency_key=key, **app)
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.error.IdempotencyError) as info:
        stripe.apps.Secret.create(scope=scope, name="n", payload="other", idempotency_key=key, **app)
    check_error(info.value, stripe.error.IdempotencyError, 400, None, None)
