"""The apps management API (svc-install apps.c) end to end, through the web
server and the stack's PostgreSQL, against notes/INSTALL.md "Management API":
every endpoint, every manifest rejection with its param, who reaches which
app (the owner's account key only: another account gets 404, an app key
403), publishing, external tests, idempotent creation, and what lies at
rest: signing secrets only sealed, opening to exactly what the API showed.

The database outlives one pytest run, so every test registers apps of its
own under fresh random ids (com.test.<random>)."""

import json
import os
import re
import secrets
import string
import subprocess

import pytest
from stackapi import REQUEST_ID, assert_error

APPS = "/v1/apps/apps"
ALNUM = string.ascii_letters + string.digits
SECRET = re.compile(r"^absec_[A-Za-z0-9]{32}$")
APPLICATION = re.compile(r"^ca_[A-Za-z0-9]{24}$")
TEST_LINK = re.compile(r"^/apps/install/link/tlnk_[A-Za-z0-9]{24}$")
APP_FIELDS = {"id", "object", "application", "name", "created", "published_version", "install_link"}
VERSION_FIELDS = {
    "id", "object", "app", "version", "name", "icon", "permissions", "allowed_redirect_uris",
    "published", "created",
}
TEST_FIELDS = {"object", "app", "version", "install_link", "allowed_redirect_uris", "created", "updated"}
APP_KEY_REFUSED = "Apps are managed with the secret key of the account that owns them"
PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


def ok(resp):
    assert resp.status == 200, f"expected HTTP 200, got {resp.status}: {resp.body!r:.500}"
    assert REQUEST_ID.match(resp.headers.get("Request-Id", "")), resp.headers
    assert isinstance(resp.body, dict), resp.body
    return resp.body


def manifest(app_id, version="1.0.0", **fields):
    doc = {
        "id": app_id,
        "version": version,
        "name": "Test app",
        "icon": "./icon_32.png",
        "permissions": [{"permission": "event_read", "purpose": "Follows installs"}],
        "app_backend": {},
        "ui_extension": {},
        "allowed_redirect_uris": ["https://example.com/callback/stripe"],
    }
    doc.update(fields)
    return json.dumps(doc)


@pytest.fixture
def owner(stack):
    return stack.accounts[0]


@pytest.fixture
def key(owner):
    return owner["secret_key"]


@pytest.fixture
def new_app(api, key):
    """Registers a fresh app (owner: the first account); returns its object
    as created (with its signing secret)."""

    def make(name="Test app"):
        return ok(api("POST", APPS, [("id", f"com.test.{rand().lower()}"), ("name", name)], key=key))

    return make


def upload(api, key, app_id, version="1.0.0", **fields):
    return api("POST", f"{APPS}/{app_id}/versions", [("manifest", manifest(app_id, version, **fields))], key=key)


# --- apps ------------------------------------------------------------------


def test_create_shows_the_signing_secret_once(api, stack, key, new_app):
    app = new_app("Shipment Invoicing")
    assert set(app) == APP_FIELDS | {"signing_secret"}
    assert app["object"] == "apps.app"
    assert app["name"] == "Shipment Invoicing"
    assert APPLICATION.match(app["application"]), app
    assert SECRET.match(app["signing_secret"]), app
    assert app["published_version"] is None
    assert app["install_link"] == f"{stack.base_url}/apps/install/link/{app['id']}"
    assert isinstance(app["created"], int)

    got = ok(api("GET", f"{APPS}/{app['id']}", key=key))
    assert set(got) == APP_FIELDS
    assert got == {k: v for k, v in app.items() if k != "signing_secret"}
    # Both modes see the same apps.
    live = ok(api("GET", f"{APPS}/{app['id']}", key=stack.accounts[0]["live_secret_key"]))
    assert live == got


@pytest.mark.parametrize(
    "params, status, code, param",
    [
        ([("name", "x")], 400, "parameter_missing", "id"),
        ([("id", "com.test.x")], 400, "parameter_missing", "name"),
        ([("id", ""), ("name", "x")], 400, "parameter_invalid_empty", "id"),
        ([("id", "com.test.x"), ("name", "")], 400, "parameter_invalid_empty", "name"),
        ([("id", "-com.test"), ("name", "x")], 400, None, "id"),
        ([("id", "com test"), ("name", "x")], 400, None, "id"),
        ([("id", "com/test"), ("name", "x")], 400, None, "id"),
        ([("id", "c" * 129), ("name", "x")], 400, None, "id"),
        ([("id", "com.test.x"), ("name", "n" * 81)], 400, None, "name"),
        ([("id", "com.test.x"), ("name", "x"), ("signing_secret", "absec_x")], 400, "parameter_unknown",
         "signing_secret"),
        ([("id", "com.test.x"), ("name", "x"), ("expand[]", "signing_secret")], 400, None, "expand"),
    ],
)
def test_create_rejections(api, key, params, status, code, param):
    assert_error(api("POST", APPS, params, key=key), status, code=code, param=param)


def test_create_taken_id(api, stack, key, new_app):
    app = new_app()
    assert_error(api("POST", APPS, [("id", app["id"]), ("name", "again")], key=key), 400,
                 code="resource_already_exists", param="id", message=f"An app with the id '{app['id']}'")
    # Ids are global: another owner cannot take one either.
    other = stack.accounts[1]["secret_key"]
    assert_error(api("POST", APPS, [("id", "com.example.app"), ("name", "mine")], key=other), 400,
                 code="resource_already_exists", param="id")


def test_idempotent_create(api, psql, key):
    app_id = f"com.test.{rand().lower()}"
    idem = [("Idempotency-Key", f"test-apps-{rand()}")]
    first = api("POST", APPS, [("id", app_id), ("name", "Once")], key=key, headers=idem)
    again = api("POST", APPS, [("id", app_id), ("name", "Once")], key=key, headers=idem)
    assert ok(first) == ok(again)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert SECRET.match(again.body["signing_secret"])
    assert psql("SELECT count(*) FROM install.apps WHERE id = :'p1';", app_id) == [("1",)]
    assert_error(api("POST", APPS, [("id", app_id), ("name", "Twice")], key=key, headers=idem), 400,
                 error_type="idempotency_error", code=None, param=None)


def test_list_newest_first_with_pagination(api, stack, key, new_app):
    made = [new_app(f"App {i}")["id"] for i in range(3)]
    page = ok(api("GET", APPS, [("limit", "2")], key=key))
    assert page["object"] == "list" and page["url"] == APPS
    assert [a["id"] for a in page["data"]] == made[::-1][:2]
    assert page["has_more"] is True
    assert all(set(a) == APP_FIELDS for a in page["data"])

    after = ok(api("GET", APPS, [("limit", "1"), ("starting_after", made[1])], key=key))
    assert [a["id"] for a in after["data"]] == [made[0]]
    before = ok(api("GET", APPS, [("limit", "5"), ("ending_before", made[0])], key=key))
    assert [a["id"] for a in before["data"]] == made[:0:-1]
    assert before["has_more"] is False

    # Only the key account's apps, and only its apps as cursors.
    others = ok(api("GET", APPS, [("limit", "100")], key=stack.accounts[1]["secret_key"]))
    assert not set(made) & {a["id"] for a in others["data"]}
    for cursor in ("starting_after", "ending_before"):
        assert_error(api("GET", APPS, [(cursor, "com.example.other")], key=key), 400,
                     code="resource_missing", param=cursor)
    assert_error(api("GET", APPS, [("limit", "101")], key=key), 400, code=None, param="limit")


# --- who may call ---------------------------------------------------------------


def endpoints(app_id):
    return [
        ("GET", f"{APPS}/{app_id}", []),
        ("POST", f"{APPS}/{app_id}/signing_secret/roll", []),
        ("POST", f"{APPS}/{app_id}/versions", [("manifest", manifest(app_id, "9.9.9"))]),
        ("GET", f"{APPS}/{app_id}/versions", []),
        ("GET", f"{APPS}/{app_id}/versions/1.0.0", []),
        ("POST", f"{APPS}/{app_id}/versions/1.0.0/publish", []),
        ("POST", f"{APPS}/{app_id}/external_test", [("version", "1.0.0")]),
        ("GET", f"{APPS}/{app_id}/external_test", []),
    ]


def test_another_account_sees_no_app(api, stack, key, new_app):
    app = new_app()
    assert upload(api, key, app["id"]).status == 200
    other = stack.accounts[1]["secret_key"]
    for method, path, params in endpoints(app["id"]):
        assert_error(api(method, path, params, key=other), 404, code="resource_missing", param=None,
                     message=f"No such app: '{app['id']}'")
    # Nothing changed: no version 9.9.9, the secret still the one created.
    got = ok(api("GET", f"{APPS}/{app['id']}/versions", key=key))
    assert [v["version"] for v in got["data"]] == ["1.0.0"]


def test_app_keys_are_refused(api, stack):
    fixture_app = stack.apps[0]
    for method, path, params in endpoints(fixture_app["id"]) + [("GET", APPS, []),
                                                               ("POST", APPS, [("id", "com.test.x"),
                                                                               ("name", "x")])]:
        for headers in ([], [("Stripe-Account", fixture_app["installed_on"][0])]):
            resp = api(method, path, params, key=fixture_app["secret_key"], headers=headers)
            assert_error(resp, 403, code=None, param=None, message=APP_KEY_REFUSED)


def test_unknown_app(api, key):
    for method, path, params in endpoints("com.test.nothing-here"):
        assert_error(api(method, path, params, key=key), 404, code="resource_missing", param=None,
                     message="No such app: 'com.test.nothing-here'")


# --- versions and manifests ----------------------------------------------------------


def test_version_upload_and_retrieve(api, key, new_app):
    app = new_app()
    perms = [{"permission": "secret_write", "purpose": "Keeps the credentials"},
             {"permission": "event_read", "purpose": "Follows installs"}]
    uris = ["https://example.com/callback/stripe", "http://localhost:3000/cb"]
    v = ok(upload(api, key, app["id"], "1.2.3", name="Shipment Invoicing", permissions=perms,
                  allowed_redirect_uris=uris))
    assert set(v) == VERSION_FIELDS
    assert v["id"] == f"{app['id']}@1.2.3"
    assert v["object"] == "apps.app_version"
    assert (v["app"], v["version"], v["name"], v["icon"]) == (app["id"], "1.2.3", "Shipment Invoicing",
                                                              "./icon_32.png")
    assert v["permissions"] == perms
    assert v["allowed_redirect_uris"] == uris
    assert v["published"] is False
    assert ok(api("GET", f"{APPS}/{app['id']}/versions/1.2.3", key=key)) == v
    assert_error(api("GET", f"{APPS}/{app['id']}/versions/1.2.4", key=key), 404, code="resource_missing",
                 param=None, message=f"No such app version: '{app['id']}@1.2.4'")

    # The seed's shape exactly: no permissions, no icon key at all is fine too.
    seed = json.dumps({"id": app["id"], "version": "2.0.0", "name": "Seed", "permissions": [],
                       "app_backend": {}, "ui_extension": {},
                       "allowed_redirect_uris": ["https://example.com/callback/stripe"]})
    v2 = ok(api("POST", f"{APPS}/{app['id']}/versions", [("manifest", seed)], key=key))
    assert v2["icon"] is None and v2["permissions"] == []


def test_version_list_pagination(api, key, new_app):
    app = new_app()
    for version in ("1.0.0", "1.1.0", "2.0.0-beta.1"):
        ok(upload(api, key, app["id"], version))
    url = f"{APPS}/{app['id']}/versions"
    page = ok(api("GET", url, [("limit", "2")], key=key))
    assert page["url"] == url
    assert [v["version"] for v in page["data"]] == ["2.0.0-beta.1", "1.1.0"]
    assert page["has_more"] is True
    rest = ok(api("GET", url, [("starting_after", f"{app['id']}@1.1.0")], key=key))
    assert [v["version"] for v in rest["data"]] == ["1.0.0"] and rest["has_more"] is False
    newer = ok(api("GET", url, [("ending_before", "1.0.0")], key=key))
    assert [v["version"] for v in newer["data"]] == ["2.0.0-beta.1", "1.1.0"]
    assert_error(api("GET", url, [("starting_after", "3.0.0")], key=key), 400, code="resource_missing",
                 param="starting_after")


def bad_uris(*uris):
    return {"allowed_redirect_uris": list(uris)}


# (manifest fields replacing the valid ones; or a raw text), the param.
REJECTIONS = [
    ("raw", "not json", "manifest"),
    ("raw", "[]", "manifest"),
    ("raw", '{"id":"x","id":"x"}', "manifest"),
    ("fields", {"homepage": "https://example.com"}, "manifest[homepage]"),
    ("fields", {"id": "com.example.app"}, "manifest[id]"),
    ("fields", {"id": None}, "manifest[id]"),
    ("fields", {"version": "1.2"}, "manifest[version]"),
    ("fields", {"version": "01.2.3"}, "manifest[version]"),
    ("fields", {"version": "1.2.3+build.5"}, "manifest[version]"),
    ("fields", {"version": None}, "manifest[version]"),
    ("fields", {"name": ""}, "manifest[name]"),
    ("fields", {"name": "n" * 81}, "manifest[name]"),
    ("fields", {"name": None}, "manifest[name]"),
    ("fields", {"icon": 5}, "manifest[icon]"),
    ("fields", {"permissions": "event_read"}, "manifest[permissions]"),
    ("fields", {"permissions": ["event_read"]}, "manifest[permissions]"),
    ("fields", {"permissions": [{"permission": "event_read", "purpose": "a"},
                                {"permission": "root_access", "purpose": "b"}]},
     "manifest[permissions][1][permission]"),
    ("fields", {"permissions": [{"permission": "event_read"}]}, "manifest[permissions][0][purpose]"),
    ("fields", {"permissions": [{"permission": "event_read", "purpose": " "}]},
     "manifest[permissions][0][purpose]"),
    ("fields", {"permissions": [{"permission": "event_read", "purpose": "a"},
                                {"permission": "event_read", "purpose": "b"}]},
     "manifest[permissions][1][permission]"),
    ("fields", {"allowed_redirect_uris": "https://example.com/cb"}, "manifest[allowed_redirect_uris]"),
    ("fields", bad_uris(*[f"https://example.com/{i}" for i in range(21)]), "manifest[allowed_redirect_uris]"),
    ("fields", bad_uris("https://example.com/cb", "/relative"), "manifest[allowed_redirect_uris][1]"),
    ("fields", bad_uris("https://example.com/cb#top"), "manifest[allowed_redirect_uris][0]"),
    ("fields", bad_uris("http://example.com/cb"), "manifest[allowed_redirect_uris][0]"),
    ("fields", bad_uris("https://me:pw@example.com/cb"), "manifest[allowed_redirect_uris][0]"),
    ("fields", bad_uris("javascript:alert(1)"), "manifest[allowed_redirect_uris][0]"),
]


@pytest.mark.parametrize("kind, value, param", REJECTIONS)
def test_manifest_rejections(api, key, new_app, kind, value, param):
    app = new_app()
    text = value if kind == "raw" else manifest(app["id"], **value)
    resp = api("POST", f"{APPS}/{app['id']}/versions", [("manifest", text)], key=key)
    err = assert_error(resp, 400, code=None, param=param)
    assert err["message"].startswith("Invalid"), err
    assert ok(api("GET", f"{APPS}/{app['id']}/versions", key=key))["data"] == []


def test_manifest_missing_and_duplicate_version(api, key, new_app):
    app = new_app()
    url = f"{APPS}/{app['id']}/versions"
    assert_error(api("POST", url, [], key=key), 400, code="parameter_missing", param="manifest")
    assert_error(api("POST", url, [("manifest", "")], key=key), 400, code="parameter_invalid_empty",
                 param="manifest")
    ok(upload(api, key, app["id"], "1.0.0"))
    err = assert_error(upload(api, key, app["id"], "1.0.0", name="Changed"), 400, code=None,
                       param="manifest[version]")
    assert "already exists" in err["message"]
    assert ok(api("GET", f"{url}/1.0.0", key=key))["name"] == "Test app"


def test_plain_http_localhost_only_in_test_mode(api, stack, new_app):
    app = new_app()
    live = stack.accounts[0]["live_secret_key"]
    test = stack.accounts[0]["secret_key"]
    for uri in ("http://localhost:3000/cb", "http://127.0.0.1:8090/callback", "http://[::1]/cb"):
        assert_error(upload(api, live, app["id"], "1.0.0", allowed_redirect_uris=[uri]), 400, code=None,
                     param="manifest[allowed_redirect_uris][0]")
    v = ok(upload(api, test, app["id"], "1.0.0",
                  allowed_redirect_uris=["https://example.com/cb", "http://localhost:3000/cb"]))
    assert v["allowed_redirect_uris"][1] == "http://localhost:3000/cb"
    assert ok(upload(api, live, app["id"], "1.0.1"))["version"] == "1.0.1"


# --- publishing ------------------------------------------------------------------------


def test_publish_switches_the_published_version(api, psql, key, new_app):
    app = new_app()
    for version in ("1.0.0", "1.1.0"):
        ok(upload(api, key, app["id"], version))
    url = f"{APPS}/{app['id']}/versions"

    first = ok(api("POST", f"{url}/1.0.0/publish", key=key))
    assert first["published"] is True and first["version"] == "1.0.0"
    assert ok(api("GET", f"{APPS}/{app['id']}", key=key))["published_version"] == "1.0.0"

    second = ok(api("POST", f"{url}/1.1.0/publish", key=key))
    assert second["published"] is True
    assert ok(api("GET", f"{url}/1.0.0", key=key))["published"] is False
    assert ok(api("GET", f"{APPS}/{app['id']}", key=key))["published_version"] == "1.1.0"
    # Publishing the published version again changes nothing.
    assert ok(api("POST", f"{url}/1.1.0/publish", key=key)) == second
    assert psql("SELECT version FROM install.app_versions WHERE app_id = :'p1' AND published;",
                app["id"]) == [("1.1.0",)]
    assert_error(api("POST", f"{url}/3.0.0/publish", key=key), 404, code="resource_missing", param=None)
    assert_error(api("POST", f"{url}/1.0.0/publish", [("force", "true")], key=key), 400,
                 code="parameter_unknown", param="force")


# --- external tests ---------------------------------------------------------------------


def test_external_test_link_is_kept_across_versions(api, stack, key, new_app):
    app = new_app()
    url = f"{APPS}/{app['id']}/external_test"
    ok(upload(api, key, app["id"], "1.0.0", allowed_redirect_uris=["https://a.example/cb"]))
    ok(upload(api, key, app["id"], "1.1.0", allowed_redirect_uris=["http://localhost:4000/cb"]))
    assert_error(api("GET", url, key=key), 404, code="resource_missing", param=None,
                 message=f"The app '{app['id']}' has no external test.")

    made = ok(api("POST", url, [("version", "1.0.0")], key=key))
    assert set(made) == TEST_FIELDS
    assert made["object"] == "apps.external_test"
    assert (made["app"], made["version"]) == (app["id"], "1.0.0")
    assert made["allowed_redirect_uris"] == ["https://a.example/cb"]
    assert made["install_link"].startswith(stack.base_url)
    assert TEST_LINK.match(made["install_link"][len(stack.base_url):]), made
    assert ok(api("GET", url, key=key)) == made

    moved = ok(api("POST", url, [("version", "1.1.0")], key=key))
    assert moved["install_link"] == made["install_link"]
    assert moved["version"] == "1.1.0"
    assert moved["allowed_redirect_uris"] == ["http://localhost:4000/cb"]
    assert moved["created"] == made["created"] and moved["updated"] >= made["updated"]
    assert ok(api("GET", url, key=key)) == moved
    # The live install link is the app id's; the external test's is another.
    assert app["install_link"] != moved["install_link"]

    assert_error(api("POST", url, [("version", "7.0.0")], key=key), 400, code="resource_missing",
                 param="version")
    assert_error(api("POST", url, [], key=key), 400, code="parameter_missing", param="version")
    assert ok(api("GET", url, key=key))["version"] == "1.1.0"


# --- signing secrets at rest ------------------------------------------------------------------


def open_sealed(stack, app_id, key_id, blob):
    """Opens a sealed signing secret as libcommon's cm_open does: the key file's
    key of that id, AES-256-GCM, blob = nonce(12) || ciphertext || tag(16),
    associated data cm_aad_build("install.apps", app_id)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    keys = {}
    for line in (stack.dir / "keys").read_text().splitlines():
        words = line.split()
        if len(words) == 2 and not words[0].startswith("#"):
            keys[words[0]] = bytes.fromhex(words[1])
    aad = b"".join(len(p).to_bytes(4, "big") + p for p in (b"install.apps", app_id.encode()))
    return AESGCM(keys[key_id]).decrypt(blob[:12], blob[12:], aad).decode()


def stored_secret(stack, psql, app_id):
    rows = psql("SELECT signing_secret IS NULL, signing_key_id, encode(signing_secret_sealed, 'hex')"
                " FROM install.apps WHERE id = :'p1';", app_id)
    assert len(rows) == 1, rows
    plaintext_gone, key_id, hexblob = rows[0]
    assert plaintext_gone == "t"
    return open_sealed(stack, app_id, key_id, bytes.fromhex(hexblob))


def pg_dump(stack, *args):
    done = subprocess.run([PG_DUMP, "--no-owner", *args], env=stack.pg_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_roll_returns_the_new_secret_once_and_stores_it_sealed(api, stack, psql, key, new_app):
    app = new_app()
    created = app["signing_secret"]
    assert stored_secret(stack, psql, app["id"]) == created

    rolled = ok(api("POST", f"{APPS}/{app['id']}/signing_secret/roll", key=key))
    assert set(rolled) == APP_FIELDS | {"signing_secret"}
    assert SECRET.match(rolled["signing_secret"]) and rolled["signing_secret"] != created
    assert rolled["application"] == app["application"]
    assert "signing_secret" not in ok(api("GET", f"{APPS}/{app['id']}", key=key))
    # The row holds the new secret only, sealed under the active (last) key.
    assert stored_secret(stack, psql, app["id"]) == rolled["signing_secret"]
    active = [ln.split()[0] for ln in (stack.dir / "keys").read_text().splitlines()
              if ln.strip() and not ln.startswith("#")][-1]
    assert psql("SELECT signing_key_id FROM install.apps WHERE id = :'p1';", app["id"]) == [(active,)]
    assert_error(api("POST", f"{APPS}/{app['id']}/signing_secret/roll", [("secret", "x")], key=key), 400,
                 code="parameter_unknown", param="secret")

    install = pg_dump(stack, "--schema=install")
    assert app["id"] in install  # the dump does hold the app
    assert "absec_" not in install
    everything = pg_dump(stack)
    assert created not in everything and rolled["signing_secret"] not in everything
    last = api("GET", f"{APPS}/{app['id']}", key=key)
    for log, text in stack.service_logs(last).items():
        assert "absec_" not in text, log


def test_fixture_secrets_are_sealed_at_start(stack, psql):
    """deploy/stack.sh seals what the fixture staged: dev.json's secrets open
    from the sealed column, and no plaintext is left."""
    for app in stack.apps:
        assert stored_secret(stack, psql, app["id"]) == app["signing_secret"]
    assert psql("SELECT count(*) FROM install.apps WHERE signing_secret IS NOT NULL;") == [("0",)]


def test_sealed_secret_is_bound_to_its_app(stack, psql, new_app):
    """A sealed secret copied onto another app does not open there."""
    a, b = new_app(), new_app()
    rows = psql("SELECT signing_key_id, encode(signing_secret_sealed, 'hex') FROM install.apps"
                " WHERE id = :'p1';", a["id"])
    key_id, hexblob = rows[0]
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        open_sealed(stack, b["id"], key_id, bytes.fromhex(hexblob))


# --- audit ------------------------------------------------------------------------------------


def test_changes_are_audited(api, psql, owner, key, new_app):
    app = new_app()
    ok(upload(api, key, app["id"], "1.0.0"))
    ok(api("POST", f"{APPS}/{app['id']}/versions/1.0.0/publish", key=key))
    test = ok(api("POST", f"{APPS}/{app['id']}/external_test", [("version", "1.0.0")], key=key))
    ok(api("POST", f"{APPS}/{app['id']}/signing_secret/roll", key=key))
    link = test["install_link"].rsplit("/", 1)[1]
    rows = psql("SELECT action, object_id, account_id, status FROM core.audit"
                " WHERE object_id IN (:'p1', :'p2', :'p3') ORDER BY id;",
                app["id"], f"{app['id']}@1.0.0", link)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("app.create", app["id"], "200"),
        ("app.version.create", f"{app['id']}@1.0.0", "200"),
        ("app.version.publish", f"{app['id']}@1.0.0", "200"),
        ("app.external_test.set", link, "200"),
        ("app.signing_secret.roll", app["id"], "200"),
    ]
    assert {r[2] for r in rows} == {owner["id"]}
    assert not psql("SELECT 1 FROM core.audit WHERE object_id = :'p1' AND (target LIKE '%absec_%'"
                    " OR actor LIKE '%absec_%');", app["id"])


def seal_command(stack):
    """Runs `svc-install --seal-signing-secrets` as stack.sh start does: the
    running service's binary, the stack's key file, the service's role."""
    pid = (stack.dir / "run" / "svc-install.pid").read_text().split()[0]
    binary = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
    env = dict(stack.pg_env(), CM_KEY_FILE=str(stack.dir / "keys"), PGUSER="svc_install")
    return subprocess.run([binary, "--seal-signing-secrets"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=60)


def test_seal_command_seals_a_staged_secret(stack, psql, new_app):
    """An operator stages a plaintext secret; the command seals it, clears the
    plaintext, and refuses (naming the app, never the value) a malformed one."""
    app = new_app()
    staged = "absec_" + rand(32)
    psql("UPDATE install.apps SET signing_secret = :'p2' WHERE id = :'p1';", app["id"], staged)
    done = seal_command(stack)
    assert done.returncode == 0, done.stdout
    assert stored_secret(stack, psql, app["id"]) == staged
    assert staged not in done.stdout

    malformed = "absec_" + rand(8) + "!"
    psql("UPDATE install.apps SET signing_secret = :'p2' WHERE id = :'p1';", app["id"], malformed)
    try:
        done = seal_command(stack)
        assert done.returncode == 1, done.stdout
        assert app["id"] in done.stdout and malformed not in done.stdout
        # Nothing was sealed in that batch: the staged value is still there.
        assert psql("SELECT signing_secret FROM install.apps WHERE id = :'p1';", app["id"]) == [(malformed,)]
    finally:
        psql("UPDATE install.apps SET signing_secret = NULL WHERE id = :'p1';", app["id"])
    assert stored_secret(stack, psql, app["id"]) == staged
