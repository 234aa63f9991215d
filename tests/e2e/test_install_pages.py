"""The install flow through nginx, as a browser without JavaScript would walk
it (http.client, one cookie), and the installations API.

Covers: sign-in (required, wrong password, throttling, sign-out), the
consent page and its escaping, redirect_uri checks (error page, never a
Location), CSRF, cancel and install redirects byte for byte, the signature,
test links (livemode=false, the installation pinned to the test's version),
memberships, the security headers of every page, the installations list and
uninstall (API, each allowed caller and the refused ones; the page), and
what an uninstall does at once elsewhere (svc-secrets refuses the app key
for that account), with the account.application.* events and audit rows.

Most cases use com.example.other (owner acct_dev2) on acct_dev1 and usr_dev2
(a member of both accounts); the module puts the fixture's installations
back when it ends."""

import hashlib
import hmac
import html
import json
import re
import secrets
import string
import time
import urllib.parse

import pytest
from stackapi import assert_error, encode_form

APP = "com.example.app"
OTHER = "com.example.other"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CANCEL = "error=access_denied&error_description=The%20user%20denied%20your%20request"
ALNUM = string.ascii_letters + string.digits


def by_id(items, ident):
    return next(o for o in items if o["id"] == ident)


@pytest.fixture(scope="module", autouse=True)
def restore_fixture(stack):
    """Puts the fixture's installations back after the module (as
    deploy/fixture.sh would), unpinned, and clears the sign-in throttle of
    this client."""
    yield
    stack.psql(
        "INSERT INTO install.installations (id, app_id, account_id, livemode, installed_by)"
        " SELECT 'inst_' || core.random_base62(16), i.app_id, i.account_id, m.livemode, i.installed_by"
        " FROM (VALUES ('com.example.app', 'acct_dev1', 'usr_dev1'),"
        "              ('com.example.app', 'acct_dev2', 'usr_dev2'),"
        "              ('com.example.other', 'acct_dev1', 'usr_dev1')) AS i(app_id, account_id, installed_by)"
        " CROSS JOIN (VALUES (false), (true)) AS m(livemode)"
        " ON CONFLICT (app_id, account_id, livemode) WHERE uninstalled_at IS NULL DO NOTHING;"
        " UPDATE install.installations SET version = NULL"
        " WHERE app_id IN ('com.example.app', 'com.example.other') AND uninstalled_at IS NULL"
        "   AND version IS NOT NULL;"
    )


# ---- a browser without JavaScript ------------------------------------------


class Browser:
    """One cookie jar (the session cookie) over stack.api."""

    def __init__(self, stack):
        self.stack = stack
        self.cookie = None

    def request(self, method, path, form=None, raw_cookie=None):
        headers = []
        cookie = raw_cookie if raw_cookie is not None else self.cookie
        if cookie:
            headers.append(("Cookie", cookie))
        body = encode_form(form) if form is not None else None
        if body is not None:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        resp = self.stack.api(method, path, headers=headers, body=body)
        set_cookie = resp.headers.get("Set-Cookie")
        if set_cookie:
            value = set_cookie.split(";", 1)[0]
            self.cookie = value if value.split("=", 1)[1] else None
        return resp

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form):
        return self.request("POST", path, form)

    def sign_in(self, user):
        resp = self.post(
            "/apps/install/login",
            [("email", user["email"]), ("password", user["password"]), ("next", "/apps/install/installations")],
        )
        assert resp.status == 303, resp.body
        assert self.cookie and self.cookie.startswith("inst_session="), resp.headers
        return resp


def text(resp):
    assert resp.headers.get("Content-Type") == "text/html; charset=utf-8", resp.headers
    return resp.body.decode("utf-8")


def csrf_of(page):
    m = CSRF.search(page)
    assert m, page
    return m.group(1)


def assert_page_headers(resp):
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (name, resp.headers)
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, csp
    assert "script-src" not in csp and "unsafe-inline" not in csp and "form-action" not in csp, csp
    assert "no-store" in resp.headers.get("Cache-Control", ""), resp.headers


def link_path(link, **query):
    path = "/apps/install/link/" + urllib.parse.quote(link, safe="")
    if query:
        path += "?" + encode_form(query.items())
    return path


def user(stack, ident):
    return by_id(stack.users, ident)


@pytest.fixture
def browser(stack):
    return Browser(stack)


@pytest.fixture
def user2(stack, browser):
    """A browser signed in as usr_dev2 (a member of acct_dev1 and acct_dev2)."""
    browser.sign_in(user(stack, "usr_dev2"))
    return browser


def redirect_uri(stack, app=OTHER):
    return by_id(stack.apps, app)["redirect_uri"]


def key_of(stack, owner, live=False):
    items = stack.apps if owner.startswith("com.") else stack.accounts
    return by_id(items, owner)["live_secret_key" if live else "secret_key"]


def active(stack, app, account, livemode):
    rows = stack.psql(
        "SELECT id, coalesce(version, ''), coalesce(installed_by, '') FROM install.installations"
        " WHERE app_id = :'p1' AND account_id = :'p2' AND livemode = :'p3'::boolean"
        " AND uninstalled_at IS NULL",
        app,
        account,
        "true" if livemode else "false",
    )
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def uninstall_sql(stack, app, account, livemode):
    stack.psql(
        "UPDATE install.installations SET uninstalled_at = now() WHERE app_id = :'p1'"
        " AND account_id = :'p2' AND livemode = :'p3'::boolean AND uninstalled_at IS NULL",
        app,
        account,
        "true" if livemode else "false",
    )


def consent(browser, link, **query):
    resp = browser.get(link_path(link, **query))
    assert resp.status == 200, resp.body
    return csrf_of(text(resp))


def install(browser, link, account, **query):
    """Walks the consent page and installs; returns the POST's response."""
    token = consent(browser, link, **query)
    form = [("csrf_token", token), ("account", account), ("action", "install")]
    form += list(query.items())
    return browser.post(link_path(link), form)


def query_of(location):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query, keep_blank_values=True, strict_parsing=True)


def check_signature(header, payload, secret):
    fields = dict(item.split("=", 1) for item in header.split(","))
    want = hmac.new(secret.encode(), f"{fields['t']}.{payload}".encode(), hashlib.sha256).hexdigest()
    return abs(int(fields["t"]) - time.time()) < 300 and hmac.compare_digest(want, fields["v1"])


# ---- sign-in ----------------------------------------------------------------


def test_link_requires_sign_in_and_comes_back(stack, browser):
    path = link_path(APP, state="x y", redirect_uri=redirect_uri(stack, APP))
    resp = browser.get(path)
    assert resp.status == 303
    assert_page_headers(resp)
    location = resp.headers["Location"]
    assert location == "/apps/install/login?next=" + urllib.parse.quote(path, safe="")
    page = browser.get(location)
    assert page.status == 200
    assert_page_headers(page)
    assert f'name="next" value="{html.escape(path, quote=True)}"' in text(page).replace("&#x27;", "&#39;")
    u = user(stack, "usr_dev1")
    resp = browser.post(
        "/apps/install/login", [("email", u["email"].upper()), ("password", u["password"]), ("next", path)]
    )
    assert resp.status == 303 and resp.headers["Location"] == path
    cookie = resp.headers["Set-Cookie"]
    assert re.fullmatch(
        r"inst_session=[A-Za-z0-9]{43}; Path=/apps/install; Max-Age=43200; HttpOnly; SameSite=Lax", cookie
    ), cookie
    # Only the token's hash is stored.
    token = cookie.split(";")[0].split("=", 1)[1]
    rows = stack.psql(
        "SELECT user_id, expires_at > now() + interval '11 hours' FROM core.user_sessions"
        " WHERE token_hash = sha256(convert_to(:'p1', 'UTF8'))",
        token,
    )
    assert rows == [("usr_dev1", "t")]
    assert stack.psql("SELECT count(*) FROM core.user_sessions WHERE token_hash::text LIKE '%' || :'p1' || '%'", token) == [("0",)]
    assert browser.get(path).status == 200


def test_next_stays_under_install_pages(stack, browser):
    u = user(stack, "usr_dev1")
    for bad in ("https://evil.example/", "//evil.example/x", "/apps/install/../../v1/events", "/v1/events", "/apps/installx"):
        b = Browser(stack)
        resp = b.post("/apps/install/login", [("email", u["email"]), ("password", u["password"]), ("next", bad)])
        assert resp.status == 303 and resp.headers["Location"] == "/apps/install/installations", bad


def test_sign_in_from_another_site_is_refused(stack):
    """Login CSRF: another site's form cannot sign a browser in (no CSRF token
    exists before a session, so the Origin header decides)."""
    u = user(stack, "usr_dev1")
    form = encode_form([("email", u["email"]), ("password", u["password"])])
    for origin in ("https://evil.example", "null", stack.base_url + ".evil.example"):
        resp = stack.api("POST", "/apps/install/login", body=form,
                         headers=[("Content-Type", "application/x-www-form-urlencoded"), ("Origin", origin)])
        assert resp.status == 403, (origin, resp.status)
        assert "Set-Cookie" not in resp.headers, origin
    resp = stack.api("POST", "/apps/install/login", body=form,
                     headers=[("Content-Type", "application/x-www-form-urlencoded"), ("Origin", stack.base_url)])
    assert resp.status == 303 and resp.headers.get("Set-Cookie", "").startswith("inst_session=")


def test_wrong_password(stack, browser):
    u = user(stack, "usr_dev1")
    wrong = "Wrong-" + secrets.token_hex(8)
    resp = browser.post("/apps/install/login", [("email", u["email"]), ("password", wrong), ("next", "/apps/install/installations")])
    assert resp.status == 401
    assert_page_headers(resp)
    assert "Set-Cookie" not in resp.headers and browser.cookie is None
    page = text(resp)
    assert "Incorrect email or password." in page and wrong not in page
    rows = stack.psql(
        "SELECT coalesce(actor, ''), status, coalesce(error_code, '') FROM core.audit"
        " WHERE request_id = :'p1' AND action = 'user.sign_in'",
        resp.headers["Request-Id"],
    )
    assert rows == [("", "401", "invalid_credentials")]
    # Neither the email nor the password reaches an audit row or a log.
    assert stack.psql("SELECT count(*) FROM core.audit a WHERE a::text LIKE '%' || :'p1' || '%'", u["email"]) == [("0",)]
    for name, log in stack.service_logs(resp).items():
        assert u["email"] not in log and wrong not in log, name
    stack.psql("DELETE FROM core.sign_in_throttle")


def test_failed_sign_ins_are_throttled(stack, browser):
    email = f"throttle-{secrets.token_hex(4)}@example.com"
    password = "pw-" + secrets.token_hex(8)
    stack.psql("SELECT core.create_user(:'p1', :'p2')", email, password)
    try:
        for _ in range(5):
            resp = browser.post("/apps/install/login", [("email", email), ("password", "not-" + password)])
            assert resp.status == 401
        resp = browser.post("/apps/install/login", [("email", email), ("password", password)])
        assert resp.status == 429 and "Set-Cookie" not in resp.headers
        assert "Too many failed sign-in attempts" in text(resp)
        rows = stack.psql(
            "SELECT status, error_code FROM core.audit WHERE request_id = :'p1' AND action = 'user.sign_in'",
            resp.headers["Request-Id"],
        )
        assert rows == [("429", "rate_limited")]
        # Another email from the same client is not locked out by this one.
        other = user(stack, "usr_dev1")
        assert Browser(stack).sign_in(other).status == 303
    finally:
        stack.psql("DELETE FROM core.sign_in_throttle; DELETE FROM core.users WHERE email = :'p1'", email)


def test_sign_out_ends_the_session(stack, user2):
    page = user2.get("/apps/install/installations")
    assert page.status == 200
    cookie = user2.cookie
    token = csrf_of(text(page))
    assert user2.post("/apps/install/logout", [("csrf_token", "0" * 64)]).status == 403
    resp = user2.post("/apps/install/logout", [("csrf_token", token)])
    assert resp.status == 303 and resp.headers["Location"] == "/apps/install/login"
    assert "Max-Age=0" in resp.headers["Set-Cookie"] and user2.cookie is None
    # The old cookie no longer signs anyone in.
    again = user2.request("GET", "/apps/install/installations", raw_cookie=cookie)
    assert again.status == 303 and again.headers["Location"].startswith("/apps/install/login?next=")
    rows = stack.psql(
        "SELECT count(*) FROM core.user_sessions WHERE token_hash = sha256(convert_to(:'p1', 'UTF8'))",
        cookie.split("=", 1)[1],
    )
    assert rows == [("0",)]


def test_garbage_cookies_are_no_session(stack, browser):
    for cookie in ("inst_session=", "inst_session=" + "A" * 43, "inst_session=" + "A" * 44, "inst_session=<script>", "x=1"):
        resp = browser.request("GET", "/apps/install/installations", raw_cookie=cookie)
        assert resp.status == 303, cookie


# ---- the consent page ---------------------------------------------------------


def test_consent_page(stack, user2):
    resp = user2.get(link_path(APP, state="abc"))
    assert resp.status == 200
    assert_page_headers(resp)
    page = text(resp)
    assert "<script" not in page
    assert "Install Example App" in page
    assert "secret_write" in page and "Keeps the credentials of the connected service" in page
    assert '<option value="acct_dev1">' in page and '<option value="acct_dev2">' in page
    assert '<form method="post" action="/apps/install/link/com.example.app">' in page
    assert f'name="redirect_uri" value="{redirect_uri(stack, APP)}"' in page
    assert 'name="state" value="abc"' in page
    assert 'name="action" value="install"' in page and 'name="action" value="cancel"' in page
    # Without a state, no state field (and so none in the redirect).
    assert 'name="state"' not in text(user2.get(link_path(APP)))


def test_unknown_link(stack, user2):
    for link in ("com.example.nope", "tlnk_nope"):
        resp = user2.get(link_path(link))
        assert resp.status == 404 and "Location" not in resp.headers
        assert_page_headers(resp)


def test_redirect_uri_must_match_exactly(stack, user2):
    good = redirect_uri(stack, APP)
    for bad in ("https://evil.example/callback", good + "x", good + "/", good + "?a=b", good.upper(), good.replace("127.0.0.1", "localhost"), ""):
        resp = user2.get(link_path(APP, redirect_uri=bad))
        assert resp.status == 400, bad
        assert "Location" not in resp.headers
        assert_page_headers(resp)
        assert "Invalid redirect URI" in text(resp)
    # A tampered redirect_uri in the POST: the same page, and nothing installed.
    token = consent(user2, APP)
    before = stack.psql("SELECT count(*) FROM install.installations")
    resp = user2.post(link_path(APP), [("csrf_token", token), ("account", "acct_dev1"), ("action", "install"), ("redirect_uri", "https://evil.example/")])
    assert resp.status == 400 and "Location" not in resp.headers
    resp = user2.post(link_path(APP), [("csrf_token", token), ("action", "cancel"), ("redirect_uri", "https://evil.example/")])
    assert resp.status == 400 and "Location" not in resp.headers
    assert stack.psql("SELECT count(*) FROM install.installations") == before


def test_html_escaping_of_state_and_app_name(stack, user2):
    hostile = "\"><script>alert(1)</script><img src=x onerror=alert('x')>&amp;"
    page = text(user2.get(link_path(APP, state=hostile)))
    assert "<script>alert" not in page and "<img" not in page
    assert 'name="state" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(&#39;x&#39;)&gt;&amp;amp;"' in page
    with test_link(stack, OTHER, name=hostile) as link:
        page = text(user2.get(link_path(link)))
    assert "<script>alert" not in page and "<img" not in page
    assert "Install &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


# ---- CSRF and memberships -------------------------------------------------------


def test_csrf_is_required(stack, user2, browser):
    uninstall_sql(stack, OTHER, "acct_dev1", True)
    token = consent(user2, OTHER)
    base = [("account", "acct_dev1"), ("action", "install")]
    other = Browser(stack)
    other.sign_in(user(stack, "usr_dev1"))
    foreign = consent(other, OTHER)  # a valid token, of another session
    for form in (base, base + [("csrf_token", "")], base + [("csrf_token", "0" * 64)], base + [("csrf_token", token[:-1])], base + [("csrf_token", foreign)]):
        resp = user2.post(link_path(OTHER), form)
        assert resp.status == 403 and "Location" not in resp.headers, form
        assert_page_headers(resp)
    # No session at all: the same.
    resp = Browser(stack).post(link_path(OTHER), base + [("csrf_token", token)])
    assert resp.status == 403
    assert active(stack, OTHER, "acct_dev1", True) is None


def test_account_must_be_the_users(stack, browser):
    browser.sign_in(user(stack, "usr_dev1"))  # a member of acct_dev1 only
    uninstall_sql(stack, OTHER, "acct_dev2", True)
    token = consent(browser, OTHER)
    for account in ("acct_dev2", "acct_nope", ""):
        resp = browser.post(link_path(OTHER), [("csrf_token", token), ("account", account), ("action", "install")])
        assert resp.status == 403 and "Location" not in resp.headers, account
    assert active(stack, OTHER, "acct_dev2", True) is None
    resp = browser.post(link_path(OTHER), [("csrf_token", token), ("account", "acct_dev1"), ("action", "bogus")])
    assert resp.status == 400 and "Location" not in resp.headers


# ---- redirects -------------------------------------------------------------------


def test_cancel_redirect(stack, user2):
    uri = redirect_uri(stack, OTHER)
    token = consent(user2, OTHER)
    resp = user2.post(link_path(OTHER), [("csrf_token", token), ("action", "cancel")])
    assert resp.status == 303
    assert_page_headers(resp)
    assert resp.headers["Location"] == f"{uri}?{CANCEL}"
    resp = user2.post(link_path(OTHER), [("csrf_token", token), ("action", "cancel"), ("state", "a b&c=d/é")])
    assert resp.headers["Location"] == f"{uri}?{CANCEL}&state=a%20b%26c%3Dd%2F%C3%A9"


def test_install_redirect(stack, user2):
    app = by_id(stack.apps, OTHER)
    uninstall_sql(stack, OTHER, "acct_dev1", True)
    state = 'st "1" \\ é/'
    resp = install(user2, OTHER, "acct_dev1", state=state)
    assert resp.status == 303, resp.body
    assert_page_headers(resp)
    location = resp.headers["Location"]
    assert location.startswith(app["redirect_uri"] + "?user_id=usr_dev2&account_id=acct_dev1&state=")
    q = query_of(location)
    assert list(q) == ["user_id", "account_id", "state", "install_signature"]  # no livemode: live
    assert q["state"] == [state]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", q["install_signature"][0])
    payload = json.dumps({"state": state, "user_id": "usr_dev2", "account_id": "acct_dev1"}, separators=(",", ":"), ensure_ascii=False)
    assert check_signature(q["install_signature"][0], payload, app["signing_secret"])
    assert not check_signature(q["install_signature"][0], payload.replace("acct_dev1", "acct_dev2"), app["signing_secret"])
    inst = active(stack, OTHER, "acct_dev1", True)
    assert inst is not None and inst[1:] == ("", "usr_dev2")
    # The event and the audit row, in the same transaction as the install.
    rows = stack.psql(
        "SELECT account_id, app_id, livemode, data->'object' FROM core.events"
        " WHERE type = 'account.application.authorized' AND request_id = :'p1'",
        resp.headers["Request-Id"],
    )
    assert len(rows) == 1, rows
    assert rows[0][:3] == ("acct_dev1", OTHER, "t")
    application = json.loads(rows[0][3])
    assert application["object"] == "application" and application["name"] == "Other Example App"
    assert re.fullmatch(r"ca_[A-Za-z0-9]+", application["id"])
    rows = stack.psql(
        "SELECT actor, account_id, app_id, livemode, object_id FROM core.audit"
        " WHERE request_id = :'p1' AND action = 'app.install'",
        resp.headers["Request-Id"],
    )
    assert rows == [("usr_dev2", "acct_dev1", OTHER, "t", inst[0])]

    # Installing again keeps the installation: same id, no second event.
    again = install(user2, OTHER, "acct_dev1")
    q = query_of(again.headers["Location"])
    assert list(q) == ["user_id", "account_id", "install_signature"]  # no state given: none back
    payload = json.dumps({"user_id": "usr_dev2", "account_id": "acct_dev1"}, separators=(",", ":"))
    assert check_signature(q["install_signature"][0], payload, app["signing_secret"])
    assert active(stack, OTHER, "acct_dev1", True)[0] == inst[0]
    assert stack.psql(
        "SELECT count(*) FROM core.events WHERE request_id = :'p1'", again.headers["Request-Id"]
    ) == [("0",)]


class test_link:
    """An external test of a new version of app (inserted as the apps API
    would), removed afterwards. Entering gives the link id."""

    def __init__(self, stack, app, name="Pinned Version", permissions=("event_read", "customer_read")):
        self.stack, self.app, self.name, self.permissions = stack, app, name, permissions
        self.version = f"9.{secrets.randbelow(10**6)}.0"
        self.link = "tlnk_" + "".join(secrets.choice(ALNUM) for _ in range(24))

    def __enter__(self):
        uri = by_id(self.stack.apps, self.app)["redirect_uri"]
        manifest = {
            "id": self.app,
            "version": self.version,
            "name": self.name,
            "permissions": [{"permission": p, "purpose": f"For {p}"} for p in self.permissions],
            "allowed_redirect_uris": [uri],
        }
        self.stack.psql(
            "INSERT INTO install.app_versions (app_id, version, manifest, permissions, allowed_redirect_uris)"
            " VALUES (:'p1', :'p2', :'p3'::jsonb, string_to_array(:'p4', ','), ARRAY[:'p5']);"
            " INSERT INTO install.external_tests (app_id, link_id, version) VALUES (:'p1', :'p6', :'p2')"
            " ON CONFLICT (app_id) DO UPDATE SET link_id = EXCLUDED.link_id, version = EXCLUDED.version",
            self.app,
            self.version,
            json.dumps(manifest),
            ",".join(self.permissions),
            uri,
            self.link,
        )
        return self.link

    def __exit__(self, *exc):
        self.stack.psql(
            "DELETE FROM install.external_tests WHERE link_id = :'p1';"
            " UPDATE install.installations SET version = NULL WHERE app_id = :'p2' AND version = :'p3';"
            " DELETE FROM install.app_versions WHERE app_id = :'p2' AND version = :'p3'",
            self.link,
            self.app,
            self.version,
        )


def test_test_link_installs_in_test_mode_pinned(stack, user2):
    app = by_id(stack.apps, OTHER)
    uninstall_sql(stack, OTHER, "acct_dev1", False)
    with test_link(stack, OTHER) as link:
        page = text(user2.get(link_path(link, state="s")))
        assert "test mode" in page and "customer_read" in page
        resp = install(user2, link, "acct_dev1", state="s")
        assert resp.status == 303, resp.body
        q = query_of(resp.headers["Location"])
        assert list(q) == ["user_id", "account_id", "state", "install_signature", "livemode"]
        assert q["livemode"] == ["false"]
        assert resp.headers["Location"].endswith("&livemode=false")
        payload = json.dumps({"state": "s", "user_id": "usr_dev2", "account_id": "acct_dev1"}, separators=(",", ":"))
        assert check_signature(q["install_signature"][0], payload, app["signing_secret"])
        inst = active(stack, OTHER, "acct_dev1", False)
        version = stack.psql("SELECT version FROM install.external_tests WHERE link_id = :'p1'", link)[0][0]
        assert inst[1] == version
        # The pinned version's permissions are what the app holds there.
        rows = stack.psql(
            "SELECT array_to_string(permissions, ',') FROM install.app_access"
            " WHERE app_id = :'p1' AND account_id = 'acct_dev1' AND NOT livemode",
            OTHER,
        )
        assert rows == [("event_read,customer_read",)]
        rows = stack.psql(
            "SELECT livemode FROM core.events WHERE type = 'account.application.authorized' AND request_id = :'p1'",
            resp.headers["Request-Id"],
        )
        assert rows == [("f",)]


# ---- installations: API ------------------------------------------------------------


def test_list_installations(stack, api):
    path = f"/v1/apps/apps/{APP}/installations"
    for key in (key_of(stack, "acct_dev1"), key_of(stack, APP)):
        resp = api("GET", path, key=key)
        assert resp.status == 200, resp.body
        assert resp.body["object"] == "list" and resp.body["url"] == path
        for o in resp.body["data"]:
            assert set(o) == {"id", "object", "app", "application", "account", "livemode", "user", "version", "status", "created", "uninstalled_at"}
            assert o["object"] == "apps.installation" and o["app"] == APP and o["livemode"] is False
        accounts = {o["account"] for o in resp.body["data"] if o["status"] == "installed"}
        assert accounts == {"acct_dev1", "acct_dev2"}
    live = api("GET", path, key=key_of(stack, "acct_dev1", live=True))
    assert live.status == 200 and all(o["livemode"] for o in live.body["data"])
    installed = api("GET", path, [("status", "installed"), ("limit", "1")], key=key_of(stack, APP))
    assert len(installed.body["data"]) == 1 and installed.body["data"][0]["status"] == "installed"
    assert installed.body["has_more"] is True
    nxt = api("GET", path, [("status", "installed"), ("starting_after", installed.body["data"][0]["id"])], key=key_of(stack, APP))
    assert nxt.status == 200 and installed.body["data"][0]["id"] not in [o["id"] for o in nxt.body["data"]]
    back = api("GET", path, [("status", "installed"), ("ending_before", nxt.body["data"][0]["id"])], key=key_of(stack, APP))
    assert [o["id"] for o in back.body["data"]] == [installed.body["data"][0]["id"]]
    assert_error(api("GET", path, [("status", "gone")], key=key_of(stack, APP)), 400, code=None, param="status")
    assert_error(api("GET", path, [("starting_after", "inst_nope")], key=key_of(stack, APP)), 400, code="resource_missing", param="starting_after")
    # Neither another account nor another app learns the app exists.
    for key in (key_of(stack, "acct_dev2"), key_of(stack, OTHER)):
        assert_error(api("GET", path, key=key), 404, code="resource_missing", param=None, message="No such app: 'com.example.app'")


def secrets_status(stack, account, live=False):
    return stack.api(
        "GET", "/v1/apps/secrets", [("scope[type]", "account")], key=key_of(stack, OTHER, live), headers={"Stripe-Account": account}
    ).status


def statuses_everywhere(stack, account, live=False):
    """The app key's answer from each service when it acts for account."""
    return {
        path: stack.api("GET", path, key=key_of(stack, OTHER, live), headers={"Stripe-Account": account}).status
        for path in ("/v1/apps/secrets?scope%5Btype%5D=account", "/v1/identity/verification_sessions", "/v1/events")
    }


def test_api_uninstall_by_each_allowed_caller(stack, api, user2):
    """com.example.other (owner acct_dev2) on acct_dev1, test mode."""
    callers = {
        "the installing account": (key_of(stack, "acct_dev1"), None),
        "the owner account": (key_of(stack, "acct_dev2"), None),
        "the app for the account": (key_of(stack, OTHER), "acct_dev1"),
    }
    with test_link(stack, OTHER, permissions=("event_read",)) as link:
        for who, (key, acting) in callers.items():
            if active(stack, OTHER, "acct_dev1", False) is None:
                assert install(user2, link, "acct_dev1").status == 303
            inst = active(stack, OTHER, "acct_dev1", False)[0]
            assert secrets_status(stack, "acct_dev1") == 200, who
            headers = {"Stripe-Account": acting} if acting else {}
            resp = api("DELETE", f"/v1/apps/installations/{inst}", key=key, headers=headers)
            assert resp.status == 200, (who, resp.body)
            assert resp.body == {"id": inst, "object": "apps.installation", "deleted": True}
            # At once: the app's key for that account is refused elsewhere.
            assert secrets_status(stack, "acct_dev1") == 403, who
            again = api("DELETE", f"/v1/apps/installations/{inst}", key=key, headers=headers)
            if acting:  # the app no longer reaches the account at all
                assert_error(again, 403, code="account_invalid", param=None)
            else:
                assert_error(again, 404, code="resource_missing", param=None, message=f"No such installation: '{inst}'")
            rows = stack.psql(
                "SELECT account_id, app_id, livemode, data->'object'->>'object' FROM core.events"
                " WHERE type = 'account.application.deauthorized' AND request_id = :'p1'",
                resp.headers["Request-Id"],
            )
            assert rows == [("acct_dev1", OTHER, "f", "application")], who
            rows = stack.psql(
                "SELECT actor, account_id, object_id, status FROM core.audit WHERE request_id = :'p1' AND action = 'app.uninstall'",
                resp.headers["Request-Id"],
            )
            assert len(rows) == 1 and rows[0][1:] == ("acct_dev1", inst, "200") and rows[0][0].startswith("key_"), rows
            listed = api("GET", f"/v1/apps/apps/{OTHER}/installations", [("status", "uninstalled")], key=key_of(stack, OTHER))
            gone = by_id(listed.body["data"], inst)
            assert gone["status"] == "uninstalled" and isinstance(gone["uninstalled_at"], int)


def test_api_uninstall_refused_for_others(stack, api):
    inst = active(stack, OTHER, "acct_dev1", False)
    if inst is None:
        stack.psql(
            "INSERT INTO install.installations (id, app_id, account_id, livemode, installed_by)"
            " VALUES ('inst_' || core.random_base62(16), :'p1', 'acct_dev1', false, 'usr_dev1')",
            OTHER,
        )
        inst = active(stack, OTHER, "acct_dev1", False)
    path = f"/v1/apps/installations/{inst[0]}"
    refused = {
        "another app for the account": (key_of(stack, APP), "acct_dev1"),
        "the app for its own account": (key_of(stack, OTHER), None),
        "the installing account's live key": (key_of(stack, "acct_dev1", live=True), None),
        "the owner's live key": (key_of(stack, "acct_dev2", live=True), None),
    }
    for who, (key, acting) in refused.items():
        resp = api("DELETE", path, key=key, headers={"Stripe-Account": acting} if acting else {})
        assert_error(resp, 404, code="resource_missing", param=None)
        rows = stack.psql("SELECT status FROM core.audit WHERE request_id = :'p1' AND action = 'app.uninstall'", resp.headers["Request-Id"])
        assert rows == [("404",)], who
    assert active(stack, OTHER, "acct_dev1", False) == inst
    assert_error(api("DELETE", "/v1/apps/installations/inst_nope", key=key_of(stack, "acct_dev1")), 404, code="resource_missing", param=None)
    assert api("DELETE", path).status == 401


# ---- installations: the page -----------------------------------------------------------


def test_installations_page_and_uninstall(stack, user2, browser):
    if active(stack, OTHER, "acct_dev1", True) is None:
        assert install(user2, OTHER, "acct_dev1").status == 303
    inst = active(stack, OTHER, "acct_dev1", True)[0]
    resp = user2.get("/apps/install/installations")
    assert resp.status == 200
    assert_page_headers(resp)
    page = text(resp)
    assert f'action="/apps/install/installations/{inst}/uninstall"' in page
    token = csrf_of(page)
    target = f"/apps/install/installations/{inst}/uninstall"
    for form in ([], [("csrf_token", "f" * 64)]):
        assert user2.post(target, form).status == 403
    # usr_dev1 administers acct_dev1 too, but not with usr_dev2's token; and
    # an installation on an account the user is not in is not found.
    dev1 = Browser(stack)
    dev1.sign_in(user(stack, "usr_dev1"))
    assert dev1.post(target, [("csrf_token", token)]).status == 403
    on_dev2 = active(stack, APP, "acct_dev2", True)[0]
    page1 = text(dev1.get("/apps/install/installations"))
    assert on_dev2 not in page1
    resp = dev1.post(f"/apps/install/installations/{on_dev2}/uninstall", [("csrf_token", csrf_of(page1))])
    assert resp.status == 404 and active(stack, APP, "acct_dev2", True)[0] == on_dev2
    assert active(stack, OTHER, "acct_dev1", True)[0] == inst
    assert set(statuses_everywhere(stack, "acct_dev1", live=True).values()) == {200}
    resp = user2.post(target, [("csrf_token", token)])
    assert resp.status == 303 and resp.headers["Location"] == "/apps/install/installations"
    assert active(stack, OTHER, "acct_dev1", True) is None
    # Refused at once by every service, not only the Secret Store.
    assert set(statuses_everywhere(stack, "acct_dev1", live=True).values()) == {403}
    rows = stack.psql(
        "SELECT actor, account_id, app_id, livemode FROM core.audit WHERE request_id = :'p1' AND action = 'app.uninstall'",
        resp.headers["Request-Id"],
    )
    assert rows == [("usr_dev2", "acct_dev1", OTHER, "t")]
    assert inst not in text(user2.get("/apps/install/installations"))
