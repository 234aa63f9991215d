"""The Secret Store (svc-secrets) end to end, through the web server and the
stack's PostgreSQL, against notes/SECRETS.md: the seed's four calls in both
scopes, every rejection with its exact status, type, code and param, who
reaches which secret (apps, installations, secret_write, modes, dashboard
extension tokens), expiry, pagination both ways, idempotent sets, the audit
trail, and what lies at rest.

The database outlives one pytest run (the Apache smoke run reuses it), so
every test works in scopes of its own: a fresh random user scope, or an
account scope emptied first."""

import base64
import re
import secrets
import string
import subprocess
import time

import pytest
from stackapi import REQUEST_ID, PsqlError, assert_error, wait_for

PATH = "/v1/apps/secrets"
SECRET_ID = re.compile(r"^appsecret_[A-Za-z0-9]{24}$")
FIELDS = {"id", "object", "created", "expires_at", "livemode", "name", "scope"}
ACCOUNT = {"type": "account"}
YEAR = 365.25 * 86400
GENERIC_500 = "An unknown error occurred. Please try again later."
APP_ONLY = "The Secret Store API can only be used by an app"
NEEDS_SECRET_WRITE = "Having the 'secret_write' permission would allow this request to continue."
# A find or delete of a name the scope does not hold (SECRETS.md is silent on
# the param; Stripe names the lookup key).
MISSING = {"code": "resource_missing", "param": "name"}
ALNUM = string.ascii_letters + string.digits


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def user_scope(user=None):
    """A user scope; by default of a fresh random user, so it starts empty."""
    return {"type": "user", "user": user or "usr_" + rand(14)}


def scope_pairs(scope):
    return [(f"scope[{k}]", v) for k, v in scope.items()]


def ok(resp):
    """The JSON body of a 200 response."""
    assert resp.status == 200, f"expected HTTP 200, got {resp.status}: {resp.body!r:.500}"
    assert REQUEST_ID.match(resp.headers.get("Request-Id", "")), resp.headers
    assert isinstance(resp.body, dict), resp.body
    return resp.body


class Secrets:
    """The four calls as one caller makes them: a key (API key or extension
    token) and the account acted for (Stripe-Account; None sends none)."""

    def __init__(self, api, key, account=None):
        self.api, self.key, self.account = api, key, account

    def call(self, method, path, params, headers=()):
        sent = {"Stripe-Account": self.account} if self.account else {}
        sent.update(headers)
        return self.api(method, path, params, key=self.key, headers=sent)

    def set(self, scope, name, payload, *extra, headers=()):
        return self.call("POST", PATH, [*scope_pairs(scope), ("name", name), ("payload", payload), *extra], headers)

    def find(self, scope, name, *extra):
        return self.call("GET", PATH + "/find", [*scope_pairs(scope), ("name", name), *extra])

    def delete(self, scope, name, *extra):
        return self.call("POST", PATH + "/delete", [*scope_pairs(scope), ("name", name), *extra])

    def list(self, scope, *extra):
        return self.call("GET", PATH, [*scope_pairs(scope), *extra])

    def payload(self, scope, name):
        return ok(self.find(scope, name, ("expand[]", "payload")))["payload"]

    def ids(self, scope):
        return [s["id"] for s in ok(self.list(scope, ("limit", "100")))["data"]]

    def empty(self, scope):
        """Deletes whatever the scope holds (left by earlier runs)."""
        for item in ok(self.list(scope, ("limit", "100")))["data"]:
            ok(self.delete(scope, item["name"]))
        assert self.ids(scope) == []


def check_secret(obj, *, name, scope, livemode=False, expires_at=None, payload=None, deleted=False):
    """An apps.secret object as SECRETS.md gives it; payload (when not None)
    must be present with that value, else absent."""
    want = set(FIELDS)
    if payload is not None:
        want.add("payload")
    if deleted:
        want.add("deleted")
    assert set(obj) == want, obj
    assert SECRET_ID.match(obj["id"]), obj["id"]
    assert obj["object"] == "apps.secret"
    assert isinstance(obj["created"], int) and abs(obj["created"] - time.time()) < 600, obj["created"]
    assert obj["livemode"] is livemode
    assert obj["name"] == name
    assert obj["scope"] == scope
    assert obj["expires_at"] == expires_at
    if payload is not None:
        assert obj["payload"] == payload
    if deleted:
        assert obj["deleted"] is True


def check_list(body, data, has_more=False):
    assert set(body) == {"object", "data", "has_more", "url"}, body
    assert body["object"] == "list"
    assert body["url"] == PATH
    assert body["has_more"] is has_more
    assert body["data"] == data


@pytest.fixture(scope="session")
def app1(stack):
    return stack.apps[0]


@pytest.fixture(scope="session")
def app2(stack):
    return stack.apps[1]


@pytest.fixture(scope="session")
def acct1(stack):
    return stack.accounts[0]["id"]


@pytest.fixture(scope="session")
def acct2(stack):
    return stack.accounts[1]["id"]


@pytest.fixture(scope="session")
def user1(stack):
    return stack.users[0]["id"]


@pytest.fixture(scope="session")
def user2(stack):
    return stack.users[1]["id"]


@pytest.fixture(scope="session", autouse=True)
def fixture_as_documented(stack, app1, app2, acct1, acct2, user1, user2):
    """The tests rely on the dev fixture of notes/CONTRACTS.md."""
    assert set(app1["installed_on"]) == {acct1, acct2}
    assert app2["installed_on"] == [acct1]
    assert "secret_write" in app1["permissions"] and "secret_write" not in app2["permissions"]
    assert stack.users[0]["accounts"] == [acct1] and set(stack.users[1]["accounts"]) == {acct1, acct2}
    assert user1 != user2


@pytest.fixture
def as_app1(api, app1, acct1):
    """App 1 (secret_write) acting for account 1 with its test key."""
    return Secrets(api, app1["secret_key"], acct1)


@pytest.fixture
def as_app1_live(api, app1, acct1):
    return Secrets(api, app1["live_secret_key"], acct1)


@pytest.fixture
def as_app2(api, app2, acct1):
    """App 2 (installed on account 1, no secret_write) acting for account 1."""
    return Secrets(api, app2["secret_key"], acct1)


@pytest.fixture
def token(stack):
    """token(user, account, app, livemode=False, ttl=300): a dashboard
    extension token (stack.extension_token)."""
    return stack.extension_token


# The seed's four calls ----------------------------------------------------


@pytest.mark.smoke
@pytest.mark.parametrize("kind", ["account", "user"])
def test_set_find_list_delete(as_app1, kind):
    scope = ACCOUNT if kind == "account" else user_scope()
    as_app1.empty(scope)
    name, payload = "api_token_" + rand(), "s3cr3t value " + rand()

    created = ok(as_app1.set(scope, name, payload))
    check_secret(created, name=name, scope=scope)
    assert ok(as_app1.find(scope, name)) == created
    assert ok(as_app1.find(scope, name, ("expand[]", "payload"))) == {**created, "payload": payload}
    check_list(ok(as_app1.list(scope)), [created])
    check_list(ok(as_app1.list(scope, ("expand[]", "data.payload"))), [{**created, "payload": payload}])

    assert ok(as_app1.delete(scope, name)) == {**created, "deleted": True}
    assert_error(as_app1.find(scope, name), 404, **MISSING)
    assert_error(as_app1.delete(scope, name), 404, **MISSING)
    check_list(ok(as_app1.list(scope)), [])


def test_delete_with_expanded_payload(as_app1):
    scope, name, payload = user_scope(), "n", "p " + rand()
    created = ok(as_app1.set(scope, name, payload))
    deleted = ok(as_app1.delete(scope, name, ("expand[]", "payload")))
    assert deleted == {**created, "payload": payload, "deleted": True}


def test_set_with_expanded_payload(as_app1):
    scope, payload = user_scope(), "p " + rand()
    created = ok(as_app1.set(scope, "n", payload, ("expand[]", "payload")))
    check_secret(created, name="n", scope=scope, payload=payload)


def test_live_key_makes_livemode_secrets(as_app1_live):
    scope, name = user_scope(), "live_" + rand()
    created = ok(as_app1_live.set(scope, name, "live payload"))
    check_secret(created, name=name, scope=scope, livemode=True)
    assert as_app1_live.payload(scope, name) == "live payload"


@pytest.mark.smoke
def test_set_replaces_by_name_and_scope(as_app1):
    scope, name = user_scope(), "oauth_token"
    expires_at = int(time.time()) + 3600
    first = ok(as_app1.set(scope, name, "one", ("expires_at", expires_at)))
    check_secret(first, name=name, scope=scope, expires_at=expires_at)
    # A later second, so that a replace that rewrote created would show.
    time.sleep(1.1)
    second = ok(as_app1.set(scope, name, "two"))
    assert second == {**first, "expires_at": None}, "same id and created; an omitted expires_at clears it"
    assert as_app1.payload(scope, name) == "two"
    check_list(ok(as_app1.list(scope)), [second])

    # The same name elsewhere is another secret.
    elsewhere = user_scope()
    other = ok(as_app1.set(elsewhere, name, "three"))
    assert other["id"] != first["id"]
    assert as_app1.payload(scope, name) == "two"
    assert as_app1.payload(elsewhere, name) == "three"


LONGEST = {
    "ascii": (lambda: user_scope(), "n" * 5000, "p" * 5000),
    # 5000 code points, not bytes; a find sends the name percent-encoded in
    # the query: 30 kB for this one, past the web servers' default 8 kB
    # request line.
    "multibyte": (lambda: user_scope(), "\u00e9" * 5000, "\U0001f511" * 5000),
    "longest user id": (
        lambda: user_scope("usr_" + rand(64)),
        "ключ 🔑 & = + %20 [x]",
        "значение\n\t\"'\\ 🔒",
    ),
}


@pytest.mark.parametrize("make_scope,name,payload", [pytest.param(*v, id=k) for k, v in LONGEST.items()])
def test_limits_are_inclusive(as_app1, make_scope, name, payload):
    """name and payload of exactly 5000 characters, the longest user id (usr_ + 64)."""
    scope = make_scope()
    created = ok(as_app1.set(scope, name, payload))
    check_secret(created, name=name, scope=scope)
    assert as_app1.payload(scope, name) == payload
    assert ok(as_app1.list(scope, ("expand[]", "data.payload")))["data"] == [{**created, "payload": payload}]
    ok(as_app1.delete(scope, name))


# Rejections ----------------------------------------------------------------

VUSER = "usr_validation" + rand(8)
U = [("scope[type]", "user"), ("scope[user]", VUSER)]
NP = [("name", "n"), ("payload", "p")]

SET_REJECTIONS = {
    "no scope": (NP, "parameter_missing", "scope[type]"),
    "scope[user] without type": ([("scope[user]", VUSER), *NP], "parameter_missing", "scope[type]"),
    "empty scope type": ([("scope[type]", ""), *NP], "parameter_invalid_empty", "scope[type]"),
    "bad scope type": ([("scope[type]", "team"), *NP], None, "scope[type]"),
    "scope not an object": ([("scope", "account"), *NP], None, "scope"),
    "user scope without user": ([("scope[type]", "user"), *NP], "parameter_missing", "scope[user]"),
    "empty scope user": ([("scope[type]", "user"), ("scope[user]", ""), *NP], "parameter_invalid_empty", "scope[user]"),
    "scope user too long": ([("scope[type]", "user"), ("scope[user]", "u" * 256), *NP], None, "scope[user]"),
    "account scope with user": ([("scope[type]", "account"), ("scope[user]", VUSER), *NP], None, "scope[user]"),
    "unknown scope key": ([*U, ("scope[team]", "t"), *NP], "parameter_unknown", "scope[team]"),
    "no name": ([*U, ("payload", "p")], "parameter_missing", "name"),
    "empty name": ([*U, ("name", ""), ("payload", "p")], "parameter_invalid_empty", "name"),
    "name of 5001": ([*U, ("name", "n" * 5001), ("payload", "p")], None, "name"),
    "no payload": ([*U, ("name", "n")], "parameter_missing", "payload"),
    "empty payload": ([*U, ("name", "n"), ("payload", "")], "parameter_invalid_empty", "payload"),
    "payload of 5001": ([*U, ("name", "n"), ("payload", "p" * 5001)], None, "payload"),
    "expires_at not an integer": ([*U, *NP, ("expires_at", "soon")], "parameter_invalid_integer", "expires_at"),
    "unknown parameter": ([*U, *NP, ("description", "x")], "parameter_unknown", "description"),
    "unknown nested parameter": ([*U, *NP, ("metadata[a]", "b")], "parameter_unknown", "metadata"),
}

# Rejections common to find and delete.
LOOKUP_REJECTIONS = {
    "no scope": ([("name", "n")], "parameter_missing", "scope[type]"),
    "bad scope type": ([("scope[type]", "team"), ("name", "n")], None, "scope[type]"),
    "user scope without user": ([("scope[type]", "user"), ("name", "n")], "parameter_missing", "scope[user]"),
    "account scope with user": (
        [("scope[type]", "account"), ("scope[user]", VUSER), ("name", "n")],
        None,
        "scope[user]",
    ),
    "unknown scope key": ([*U, ("scope[team]", "t"), ("name", "n")], "parameter_unknown", "scope[team]"),
    "no name": (U, "parameter_missing", "name"),
    "empty name": ([*U, ("name", "")], "parameter_invalid_empty", "name"),
    "name of 5001": ([*U, ("name", "n" * 5001)], None, "name"),
    "payload is not a parameter": ([*U, ("name", "n"), ("payload", "p")], "parameter_unknown", "payload"),
    "expires_at is not a parameter": ([*U, ("name", "n"), ("expires_at", "1")], "parameter_unknown", "expires_at"),
}

LIST_REJECTIONS = {
    "no scope": ([], "parameter_missing", "scope[type]"),
    "bad scope type": ([("scope[type]", "team")], None, "scope[type]"),
    "user scope without user": ([("scope[type]", "user")], "parameter_missing", "scope[user]"),
    "account scope with user": ([("scope[type]", "account"), ("scope[user]", VUSER)], None, "scope[user]"),
    "name is not a parameter": ([*U, ("name", "n")], "parameter_unknown", "name"),
    "limit 0": ([*U, ("limit", "0")], None, "limit"),
    "limit 101": ([*U, ("limit", "101")], None, "limit"),
    "limit not an integer": ([*U, ("limit", "ten")], "parameter_invalid_integer", "limit"),
    "unknown starting_after": ([*U, ("starting_after", "appsecret_" + "x" * 24)], "resource_missing", "starting_after"),
    "unknown ending_before": ([*U, ("ending_before", "appsecret_" + "x" * 24)], "resource_missing", "ending_before"),
}


def rejection_params(table):
    return [pytest.param(*case, id=name) for name, case in table.items()]


@pytest.mark.parametrize("params,code,param", rejection_params(SET_REJECTIONS))
def test_set_rejections(as_app1, params, code, param):
    assert_error(as_app1.call("POST", PATH, params), 400, code=code, param=param)
    assert as_app1.ids({"type": "user", "user": VUSER}) == []


@pytest.mark.parametrize("op", ["find", "delete"])
@pytest.mark.parametrize("params,code,param", rejection_params(LOOKUP_REJECTIONS))
def test_find_and_delete_rejections(as_app1, op, params, code, param):
    method, path = ("GET", PATH + "/find") if op == "find" else ("POST", PATH + "/delete")
    assert_error(as_app1.call(method, path, params), 400, code=code, param=param)


@pytest.mark.parametrize("params,code,param", rejection_params(LIST_REJECTIONS))
def test_list_rejections(as_app1, params, code, param):
    assert_error(as_app1.call("GET", PATH, params), 400, code=code, param=param)


def test_cursor_of_another_scope_is_unknown(as_app1):
    here, there = user_scope(), user_scope()
    ok(as_app1.set(here, "n", "p"))
    foreign = ok(as_app1.set(there, "n", "p"))["id"]
    for cursor in ("starting_after", "ending_before"):
        resp = as_app1.list(here, (cursor, foreign))
        assert_error(resp, 400, code="resource_missing", param=cursor)


def test_expires_at_bounds(as_app1):
    scope = user_scope()
    now = int(time.time())
    for past in (now - 3600, now - 1, now):
        resp = as_app1.set(scope, "n", "p", ("expires_at", past))
        assert_error(resp, 400, code=None, param="expires_at", message=re.compile(r"past", re.I))
    over = now + int(100 * YEAR) + 3600
    assert_error(as_app1.set(scope, "n", "p", ("expires_at", over)), 400, code=None, param="expires_at")
    assert as_app1.ids(scope) == []

    for fine in (now + 60, now + int(99 * YEAR), now + int(100 * YEAR) - 3600):
        created = ok(as_app1.set(scope, "n", "p", ("expires_at", fine)))
        check_secret(created, name="n", scope=scope, expires_at=fine)
        assert ok(as_app1.find(scope, "n"))["expires_at"] == fine


def test_eleventh_secret_is_refused(as_app1):
    scope = user_scope()
    made = [ok(as_app1.set(scope, f"s{i}", f"p{i}")) for i in range(10)]

    err = assert_error(as_app1.set(scope, "s10", "p10"), 400, code=None, param=None)
    assert re.search(r"\b10\b", err["message"]), err["message"]
    assert_error(as_app1.find(scope, "s10"), 404, **MISSING)

    # Replacing a secret of a full scope is fine.
    replaced = ok(as_app1.set(scope, "s3", "new p3"))
    assert replaced["id"] == made[3]["id"]
    assert as_app1.payload(scope, "s3") == "new p3"

    # Other scopes are not full: the account scope and another user's.
    ok(as_app1.set(user_scope(), "s10", "p10"))

    # Deleting one makes room for exactly one.
    ok(as_app1.delete(scope, "s0"))
    ok(as_app1.set(scope, "s10", "p10"))
    assert_error(as_app1.set(scope, "s11", "p11"), 400, code=None, param=None)
    assert len(as_app1.ids(scope)) == 10


# Expiry -------------------------------------------------------------------


def test_expired_secret_is_gone_and_frees_its_place(as_app1):
    scope = user_scope()
    for i in range(9):
        ok(as_app1.set(scope, f"keep{i}", "p"))
    expires_at = int(time.time()) + 3
    short = ok(as_app1.set(scope, "short", "short-lived", ("expires_at", expires_at)))
    assert short["expires_at"] == expires_at
    assert as_app1.ids(scope)[0] == short["id"]

    gone = wait_for(lambda: as_app1.find(scope, "short").status == 404, timeout=9)
    assert gone, "the secret outlived its expires_at by more than 6 seconds"
    assert time.time() >= expires_at - 1, "gone before its expires_at"
    assert_error(as_app1.find(scope, "short", ("expand[]", "payload")), 404, **MISSING)
    assert_error(as_app1.delete(scope, "short"), 404, **MISSING)
    ids = as_app1.ids(scope)
    assert short["id"] not in ids and len(ids) == 9

    # An expired secret takes no place: the scope holds 9, so two more fit
    # only if "short" no longer counts.
    ok(as_app1.set(scope, "after", "p"))
    assert_error(as_app1.set(scope, "after2", "p"), 400, code=None, param=None)
    # Setting the same name again makes a new secret.
    ok(as_app1.delete(scope, "after"))
    again = ok(as_app1.set(scope, "short", "back"))
    assert again["id"] != short["id"] and again["expires_at"] is None


# Pagination ---------------------------------------------------------------


def test_pagination_both_ways(as_app1):
    scope = user_scope()
    created = [ok(as_app1.set(scope, f"page{i}", f"payload{i}")) for i in range(10)]
    made = [c["id"] for c in created]
    newest_first = made[::-1]
    seconds = [c["created"] for c in created]
    assert len(set(seconds)) < len(seconds), f"no two secrets created in the same second: {seconds}"

    # Forward with starting_after, three at a time.
    pages, cursor = [], None
    while True:
        extra = [("limit", "3")] + ([("starting_after", cursor)] if cursor else [])
        body = ok(as_app1.list(scope, *extra))
        pages.append(body)
        assert all("payload" not in item for item in body["data"])
        if not body["has_more"]:
            break
        cursor = body["data"][-1]["id"]
        assert len(pages) < 10, "has_more never became false"
    assert [len(p["data"]) for p in pages] == [3, 3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, True, False]
    forward = [item["id"] for p in pages for item in p["data"]]
    assert forward == newest_first, "newest first, in creation order within a second"
    for p in pages:
        check_list(p, p["data"], p["has_more"])

    # Backward with ending_before, from the oldest.
    pages, cursor = [], newest_first[-1]
    while True:
        body = ok(as_app1.list(scope, ("limit", "3"), ("ending_before", cursor)))
        pages.append(body)
        if not body["has_more"]:
            break
        cursor = body["data"][0]["id"]
        assert len(pages) < 10, "has_more never became false"
    assert [len(p["data"]) for p in pages] == [3, 3, 3]
    assert [p["has_more"] for p in pages] == [True, True, False]
    backward = [item["id"] for p in reversed(pages) for item in p["data"]]
    assert backward == newest_first[:-1]

    # A page from the middle, and both ends.
    middle = ok(as_app1.list(scope, ("limit", "2"), ("starting_after", newest_first[4])))
    assert [s["id"] for s in middle["data"]] == newest_first[5:7] and middle["has_more"] is True
    assert ok(as_app1.list(scope, ("ending_before", newest_first[0])))["data"] == []
    last = ok(as_app1.list(scope, ("starting_after", newest_first[-1])))
    check_list(last, [])

    # The whole scope: default limit 10, stable across calls.
    full = ok(as_app1.list(scope))
    assert [s["id"] for s in full["data"]] == newest_first and full["has_more"] is False
    assert ok(as_app1.list(scope)) == full
    assert ok(as_app1.list(scope, ("limit", "9")))["has_more"] is True


def test_list_expands_payloads(as_app1):
    scope = user_scope()
    for i in range(4):
        ok(as_app1.set(scope, f"n{i}", f"payload {i}"))
    plain = ok(as_app1.list(scope))["data"]
    assert all("payload" not in item for item in plain)
    expanded = ok(as_app1.list(scope, ("expand[]", "data.payload")))["data"]
    assert [item["payload"] for item in expanded] == [f"payload {i}" for i in (3, 2, 1, 0)]
    assert [{k: v for k, v in item.items() if k != "payload"} for item in expanded] == plain
    # The SDKs' indexed form, and a page of it.
    page = ok(as_app1.list(scope, ("expand[0]", "data.payload"), ("limit", "2")))
    assert [item["payload"] for item in page["data"]] == ["payload 3", "payload 2"]


# Who reaches what ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["account", "user"])
def test_other_app_never_sees_the_secret(as_app1, as_app2, kind):
    scope = ACCOUNT if kind == "account" else user_scope()
    as_app1.empty(scope)
    name = "shared_name_" + rand()
    ok(as_app1.set(scope, name, "app 1 only"))
    assert_error(as_app2.find(scope, name), 404, **MISSING)
    assert_error(as_app2.find(scope, name, ("expand[]", "payload")), 404, **MISSING)
    check_list(ok(as_app2.list(scope)), [])
    check_list(ok(as_app2.list(scope, ("expand[]", "data.payload"))), [])
    assert as_app1.payload(scope, name) == "app 1 only"
    ok(as_app1.delete(scope, name))


@pytest.mark.smoke
@pytest.mark.parametrize("mode", ["secret_key", "live_secret_key"])
def test_app_not_installed_on_stripe_account(api, app2, acct2, mode):
    outsider = Secrets(api, app2[mode], acct2)
    scope = user_scope()
    for resp in (
        outsider.set(scope, "n", "p"),
        outsider.find(scope, "n"),
        outsider.delete(scope, "n"),
        outsider.list(scope),
    ):
        assert_error(resp, 403, code="account_invalid", param=None)


@pytest.mark.smoke
def test_set_and_delete_need_secret_write(as_app2, psql, app2):
    scope = user_scope()
    payload = "no-write-" + rand()
    for resp in (as_app2.set(scope, "n", payload), as_app2.set(ACCOUNT, "n", payload), as_app2.delete(scope, "n")):
        err = assert_error(resp, 403, code=None, param=None)
        assert NEEDS_SECRET_WRITE in err["message"], err["message"]
        assert payload not in err["message"]
    # find and list need no permission.
    assert_error(as_app2.find(scope, "n"), 404, **MISSING)
    check_list(ok(as_app2.list(scope)), [])
    check_list(ok(as_app2.list(ACCOUNT)), [])
    assert psql("SELECT count(*) FROM secrets.secrets WHERE app_id = :'p1'", app2["id"]) == [("0",)]


@pytest.mark.smoke
@pytest.mark.parametrize("mode", ["secret_key", "live_secret_key"])
def test_account_key_is_refused(api, stack, mode):
    account = stack.accounts[0]
    for caller in (Secrets(api, account[mode]), Secrets(api, account[mode], account["id"])):
        for scope in (ACCOUNT, user_scope()):
            for resp in (
                caller.set(scope, "n", "p"),
                caller.find(scope, "n"),
                caller.delete(scope, "n"),
                caller.list(scope),
            ):
                assert_error(resp, 403, code=None, param=None, message=APP_ONLY)


@pytest.mark.parametrize("writer,reader", [("secret_key", "live_secret_key"), ("live_secret_key", "secret_key")])
def test_modes_never_see_each_other(api, app1, acct1, writer, reader):
    w, r = Secrets(api, app1[writer], acct1), Secrets(api, app1[reader], acct1)
    scope, name = user_scope(), "mode_" + rand()
    written = ok(w.set(scope, name, "written in " + writer))
    assert_error(r.find(scope, name), 404, **MISSING)
    assert_error(r.find(scope, name, ("expand[]", "payload")), 404, **MISSING)
    check_list(ok(r.list(scope)), [])
    assert_error(r.delete(scope, name), 404, **MISSING)
    assert_error(r.list(scope, ("starting_after", written["id"])), 400, code="resource_missing", param="starting_after")
    # The same name in the other mode is another secret.
    other = ok(r.set(scope, name, "written in " + reader))
    assert other["id"] != written["id"] and other["livemode"] is not written["livemode"]
    assert w.payload(scope, name) == "written in " + writer
    assert r.payload(scope, name) == "written in " + reader


def test_accounts_never_see_each_other(api, app1, acct1, acct2):
    one, two = Secrets(api, app1["secret_key"], acct1), Secrets(api, app1["secret_key"], acct2)
    scope, name = user_scope(), "acct_" + rand()
    ok(one.set(scope, name, "account 1"))
    assert_error(two.find(scope, name), 404, **MISSING)
    check_list(ok(two.list(scope)), [])
    ok(two.set(scope, name, "account 2"))
    assert one.payload(scope, name) == "account 1"
    assert two.payload(scope, name) == "account 2"


def test_app_key_without_stripe_account_acts_for_its_owner(api, app1, app2, acct1, acct2):
    bare, same = Secrets(api, app1["secret_key"]), Secrets(api, app1["secret_key"], acct1)
    scope, name = user_scope(), "owner_" + rand()
    created = ok(bare.set(scope, name, "p"))
    assert ok(same.find(scope, name)) == created
    assert_error(Secrets(api, app1["secret_key"], acct2).find(scope, name), 404, **MISSING)
    # App 2's owner (account 2) has not installed it.
    assert app2["owner_account"] == acct2
    assert_error(Secrets(api, app2["secret_key"]).list(scope), 403, code="account_invalid", param=None)


# Dashboard extension tokens ------------------------------------------------


@pytest.mark.smoke
def test_extension_token_reaches_account_scope_and_own_user_scope(api, token, app1, acct2, user2):
    ext = Secrets(api, token(user2, acct2, app1["id"]))
    assert ext.key.startswith("uxt_test_"), "token shape"
    backend = Secrets(api, app1["secret_key"], acct2)
    backend.empty(ACCOUNT)
    own = user_scope(user2)
    backend.empty(own)

    # The account scope is shared with the app's backend, both ways.
    name = "from_extension_" + rand()
    created = ok(ext.set(ACCOUNT, name, "set by the extension"))
    check_secret(created, name=name, scope=ACCOUNT)
    assert backend.payload(ACCOUNT, name) == "set by the extension"
    ok(backend.set(ACCOUNT, "from_backend", "set by the backend"))
    assert ext.payload(ACCOUNT, "from_backend") == "set by the backend"
    assert [s["name"] for s in ok(ext.list(ACCOUNT))["data"]] == ["from_backend", name]

    # So is the user's own user scope.
    ok(backend.set(own, "oauth", "for user 2"))
    assert ext.payload(own, "oauth") == "for user 2"
    ok(ext.set(own, "oauth", "replaced by user 2"))
    assert backend.payload(own, "oauth") == "replaced by user 2"
    check_list(ok(ext.list(own)), [ok(backend.find(own, "oauth"))])
    assert ok(ext.delete(own, "oauth"))["deleted"] is True
    ok(ext.delete(ACCOUNT, name))
    ok(ext.delete(ACCOUNT, "from_backend"))


def test_extension_token_cannot_reach_another_users_scope(api, token, app1, acct2, user1, user2):
    ext = Secrets(api, token(user2, acct2, app1["id"]))
    backend = Secrets(api, app1["secret_key"], acct2)
    for other in (user1, "usr_" + rand(14)):
        scope = user_scope(other)
        ok(backend.set(scope, "theirs", "not for user 2"))
        for resp in (
            ext.set(scope, "theirs", "overwrite"),
            ext.find(scope, "theirs"),
            ext.find(scope, "theirs", ("expand[]", "payload")),
            ext.delete(scope, "theirs"),
            ext.list(scope),
        ):
            assert_error(resp, 403, code=None, param="scope[user]")
        assert backend.payload(scope, "theirs") == "not for user 2"
        ok(backend.delete(scope, "theirs"))


def test_extension_token_stripe_account_must_be_its_own(api, token, app1, acct1, acct2, user2):
    key = token(user2, acct2, app1["id"])
    scope = user_scope(user2)
    assert_error(Secrets(api, key, acct1).list(scope), 403, code="account_invalid", param=None)
    assert_error(Secrets(api, key, acct1).set(scope, "n", "p"), 403, code="account_invalid", param=None)
    ok(Secrets(api, key, acct2).list(scope))


def test_extension_token_expires(api, token, app1, acct2, user2):
    ext = Secrets(api, token(user2, acct2, app1["id"], ttl=3))
    assert ext.list(ACCOUNT).status == 200, "a fresh token must work before it expires"
    expired = wait_for(lambda: ext.list(ACCOUNT).status == 401, timeout=8)
    assert expired, "a token with a 3 s lifetime still works after 8 s"
    assert_error(ext.list(ACCOUNT), 401, code=None, param=None)
    assert_error(ext.set(user_scope(user2), "n", "p"), 401, code=None, param=None)


def test_extension_token_refusals(api, token, app1, app2, acct1, acct2, user1, user2):
    # Not a member of the account: the dashboard cannot issue it.
    with pytest.raises(PsqlError, match="not a member"):
        token(user1, acct2, app1["id"])
    # An app the account has not installed: issued, but refused on use.
    key = token(user2, acct2, app2["id"])
    for resp in (Secrets(api, key).list(ACCOUNT), Secrets(api, key, acct2).list(ACCOUNT)):
        assert_error(resp, 403, code="account_invalid", param=None)
    # A forged or damaged token.
    good = token(user2, acct2, app1["id"])
    damaged = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),
        good[:-4],
        "uxt_test_" + rand(36),
        good.replace("uxt_test_", "uxt_live_"),
    ]
    for bad in damaged:
        assert_error(Secrets(api, bad).list(ACCOUNT), 401, code=None, param=None)


def test_extension_token_modes(api, token, app1, acct2, user2):
    live = Secrets(api, token(user2, acct2, app1["id"], livemode=True))
    assert live.key.startswith("uxt_live_")
    test = Secrets(api, token(user2, acct2, app1["id"]))
    scope, name = user_scope(user2), "mode_" + rand()
    created = ok(live.set(scope, name, "live"))
    assert created["livemode"] is True
    assert Secrets(api, app1["live_secret_key"], acct2).payload(scope, name) == "live"
    assert_error(test.find(scope, name), 404, **MISSING)
    ok(live.delete(scope, name))


def test_extension_token_of_app_without_secret_write(api, token, app2, acct1, user1):
    ext = Secrets(api, token(user1, acct1, app2["id"]))
    err = assert_error(ext.set(ACCOUNT, "n", "p"), 403, code=None, param=None)
    assert NEEDS_SECRET_WRITE in err["message"]
    check_list(ok(ext.list(user_scope(user1))), [])


def test_extension_token_of_a_former_member(api, psql, token, app1, acct2, user2):
    ext = Secrets(api, token(user2, acct2, app1["id"]))
    ok(ext.list(ACCOUNT))
    (role,) = psql("SELECT role FROM core.memberships WHERE user_id = :'p1' AND account_id = :'p2'", user2, acct2)[0]
    psql("DELETE FROM core.memberships WHERE user_id = :'p1' AND account_id = :'p2'", user2, acct2)
    try:
        resp = ext.list(ACCOUNT)
    finally:
        psql("SELECT core.add_membership(:'p1', :'p2', :'p3')", user2, acct2, role)
    assert_error(resp, 401, code=None, param=None)


# Idempotency ----------------------------------------------------------------


def test_set_is_idempotent(as_app1, psql):
    scope, name, key = user_scope(), "idem_" + rand(), "idem-" + rand(24)
    first = as_app1.set(scope, name, "first", ("expand[]", "payload"), headers={"Idempotency-Key": key})
    body = ok(first)
    assert first.headers.get("Idempotency-Key") == key
    assert first.headers.get("Idempotent-Replayed") is None

    # The secret changes behind the key's back; a replay answers the stored
    # response and does not run the set again.
    ok(as_app1.set(scope, name, "changed"))
    again = as_app1.set(scope, name, "first", ("expand[]", "payload"), headers={"Idempotency-Key": key})
    assert ok(again) == body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert as_app1.payload(scope, name) == "changed"
    assert as_app1.ids(scope) == [body["id"]]

    resp = as_app1.set(scope, name, "different", ("expand[]", "payload"), headers={"Idempotency-Key": key})
    assert_error(resp, 400, error_type="idempotency_error", code=None, param=None)
    assert as_app1.payload(scope, name) == "changed"
    # The set ran ahead of the claim's answer; it is undone and not audited
    # as a set of that secret: the rejection names nothing the set touched.
    rejected = psql("SELECT action, status, object_id IS NULL, target IS NULL FROM core.audit"
                    " WHERE request_id = :'p1'", resp.headers["Request-Id"])
    assert rejected == [("secret.set", "400", "t", "t")], rejected


@pytest.mark.parametrize("user", ["someone@example.com", "usr_", "usr_a-b", "acct_1", "usr_" + "a" * 65])
def test_scope_user_must_be_a_user_id(as_app1, user):
    resp = as_app1.set({"type": "user", "user": user}, "n", "p")
    assert_error(resp, 400, code=None, param="scope[user]")


def test_stored_idempotent_response_is_sealed(as_app1, psql):
    """The SDKs send an Idempotency-Key on every POST, so a set with
    expand[]=payload stores a response holding the payload: it is sealed at
    rest like the secret itself, and the replay still returns it."""
    scope, name, key = user_scope(), "sealed_" + rand(), "idem-" + rand(24)
    payload = "idem-stored-payload-" + rand(24)
    first = ok(as_app1.set(scope, name, payload, ("expand[]", "payload"), headers={"Idempotency-Key": key}))
    assert first["payload"] == payload
    stored = psql("SELECT body FROM core.idempotency WHERE key = :'p1'", key)
    assert len(stored) == 1 and stored[0][0].startswith("sealed:"), stored
    found = psql("SELECT count(*) FROM core.idempotency i WHERE strpos(i::text, :'p1') > 0"
                 " OR strpos(i::text, :'p2') > 0", payload, payload.encode().hex())
    assert found == [("0",)]
    again = as_app1.set(scope, name, payload, ("expand[]", "payload"), headers={"Idempotency-Key": key})
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert ok(again) == first


def test_idempotency_key_is_per_caller(api, app1, acct1, acct2):
    """The same key from another account acted for is another request."""
    key, scope = "idem-" + rand(24), user_scope()
    one = ok(Secrets(api, app1["secret_key"], acct1).set(scope, "n", "p", headers={"Idempotency-Key": key}))
    two = Secrets(api, app1["secret_key"], acct2).set(scope, "n", "p", headers={"Idempotency-Key": key})
    assert ok(two)["id"] != one["id"]
    assert two.headers.get("Idempotent-Replayed") is None


# Audit --------------------------------------------------------------------


def audit_rows(psql, object_id):
    return psql(
        "SELECT action, service, actor, account_id, app_id, livemode, status, error_code, target"
        " FROM core.audit WHERE object_id = :'p1' ORDER BY id",
        object_id,
    )


def test_audit_trail(as_app1, psql, app1, acct1):
    scope, name, payload = user_scope(), "audited_" + rand(), "audit-payload-" + rand(24)
    created = ok(as_app1.set(scope, name, payload))
    ok(as_app1.find(scope, name))
    assert as_app1.payload(scope, name) == payload
    ok(as_app1.list(scope))
    ok(as_app1.list(scope, ("expand[]", "data.payload")))
    ok(as_app1.delete(scope, name))
    # Rejected requests carrying the payload.
    as_app1.set(scope, "x" * 5001, payload)
    as_app1.set(scope, name, payload, ("expires_at", "1"))

    (key_id,) = psql("SELECT id FROM core.api_keys WHERE app_id = :'p1' AND NOT livemode", app1["id"])[0]
    target = f"user:{scope['user']}/{name}"
    want = [
        (action, "svc-secrets", key_id, acct1, app1["id"], "f", "200", "", target)
        for action in ("secret.set", "secret.read", "secret.read", "secret.delete")
    ]
    assert audit_rows(psql, created["id"]) == want

    everything = "\n".join(row[0] for row in psql("SELECT a::text FROM core.audit a"))
    assert payload not in everything
    assert payload.encode().hex() not in everything


def test_audit_actor_of_an_extension_token_is_the_user(api, psql, token, app1, acct2, user2):
    ext = Secrets(api, token(user2, acct2, app1["id"]))
    scope, name = user_scope(user2), "token_audit_" + rand()
    created = ok(ext.set(scope, name, "p"))
    ok(ext.delete(scope, name))
    rows = audit_rows(psql, created["id"])
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        ("secret.set", user2, acct2, app1["id"]),
        ("secret.delete", user2, acct2, app1["id"]),
    ]


def test_audit_target_of_account_scope_and_long_names(as_app1, psql):
    as_app1.empty(ACCOUNT)
    name = "long" + "n" * 4996
    created = ok(as_app1.set(ACCOUNT, name, "p"))
    ok(as_app1.delete(ACCOUNT, name))
    targets = {r[8] for r in audit_rows(psql, created["id"])}
    assert targets == {("account/" + name)[:256]}


# At rest ------------------------------------------------------------------


def test_dump_holds_no_payload(as_app1, stack):
    written = []
    for scope in (user_scope(), ACCOUNT):
        if scope is ACCOUNT:
            as_app1.empty(ACCOUNT)
        payload = "AT-REST-" + rand(40)
        written.append((ok(as_app1.set(scope, "at_rest_" + rand(), payload))["id"], payload))
    dump = subprocess.run(
        ["pg_dump", "--schema=secrets", "--data-only"],
        env=stack.pg_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for secret_id, payload in written:
        assert secret_id in dump, "the dump does not hold the rows"
        for form in (payload, payload.encode().hex(), base64.b64encode(payload.encode()).decode()):
            assert form not in dump
    # Nor do the services' logs.
    for log, text in stack.service_logs(after=as_app1.find(scope, "at_rest_none")).items():
        for _, payload in written:
            assert payload not in text, log


def test_ciphertext_moved_to_another_row_fails(as_app1, psql, stack):
    scope = user_scope()
    a, pa = "row_a", "PAYLOAD-A-" + rand(24)
    b, pb = "row_b", "PAYLOAD-B-" + rand(24)
    id_a = ok(as_app1.set(scope, a, pa))["id"]
    id_b = ok(as_app1.set(scope, b, pb))["id"]
    psql(
        "UPDATE secrets.secrets t SET payload = s.payload, key_id = s.key_id"
        " FROM secrets.secrets s WHERE t.id = :'p1' AND s.id = :'p2'",
        id_a,
        id_b,
    )
    assert psql(
        "SELECT count(*) FROM secrets.secrets a JOIN secrets.secrets b ON a.payload = b.payload"
        " WHERE a.id = :'p1' AND b.id = :'p2'",
        id_a,
        id_b,
    ) == [("1",)]

    resp = as_app1.find(scope, a, ("expand[]", "payload"))
    err = assert_error(resp, 500, error_type="api_error", code=None, param=None)
    assert err["message"] == GENERIC_500
    assert pa not in str(resp.body) and pb not in str(resp.body)
    # The row itself is intact, and the row the ciphertext came from is fine.
    assert ok(as_app1.find(scope, a))["id"] == id_a
    assert as_app1.payload(scope, b) == pb
    ok(as_app1.delete(scope, a))
    assert as_app1.ids(scope) == [id_b]
    for log, text in stack.service_logs(after=as_app1.find(scope, b)).items():
        assert pa not in text and pb not in text, log
