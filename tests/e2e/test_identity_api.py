"""The verification sessions and reports API (svc-identity) end to end,
through the web server and the stack's PostgreSQL, against notes/IDENTITY.md
and API.md sections 9 and 10: the object's exact fields, every validation
error with its param, every wrong-state call, expansions, list filters and
pagination both ways, isolation between accounts and modes, events, audit
rows, and redaction really erasing (a dump of the identity schema holds none
of the planted values, the uploaded files are gone, placeholders are served).

The database outlives one pytest run, so every test makes sessions of its own
and filters lists by a client_reference_id nobody else uses. Sessions are
moved past requires_input with psql where the hosted flow cannot take them
(verified outputs are sealed by the checks worker)."""

import hashlib
import json
import re
import secrets
import string
import struct
import subprocess
import time
import zlib

import pytest
from stackapi import REQUEST_ID, assert_error, wait_for

PATH = "/v1/identity/verification_sessions"
REPORTS = "/v1/identity/verification_reports"
VS_ID = re.compile(r"^vs_[A-Za-z0-9]{24}$")
SECRET = re.compile(r"^(vs_[A-Za-z0-9]{24})_secret_(test|live)_[A-Za-z0-9]{32}$")
ALNUM = string.ascii_letters + string.digits
# id and object first, then the schema's fields in order; the expandable
# extras (provided_details, verified_outputs) and related_person only when
# asked for or set.
FIELDS = [
    "id", "object", "client_reference_id", "client_secret", "created", "last_error",
    "last_verification_report", "livemode", "metadata", "options", "redaction",
    "related_customer", "related_customer_account", "status", "type", "url",
]
WRONG_STATE = re.compile(r"^This VerificationSession ")


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


@pytest.fixture(scope="module")
def key(stack):
    return stack.accounts[0]["secret_key"]


@pytest.fixture(scope="module")
def other_key(stack):
    return stack.accounts[1]["secret_key"]


def ok(resp, status=200):
    assert resp.status == status, f"HTTP {resp.status}: {resp.body!r:.600}"
    assert REQUEST_ID.match(resp.headers.get("Request-Id", ""))
    return resp.body


def create(api, key, *params, **kw):
    return ok(api("POST", PATH, [("type", "document"), *params], key=key, **kw))


def session_row(psql, sid, cols):
    rows = psql(f"SELECT {cols} FROM identity.sessions WHERE id = :'p1'", sid)
    assert len(rows) == 1, rows
    return rows[0]


def set_state(psql, sid, status, *, report=None, error=None):
    """Moves a session where only the hosted flow and the checks worker can,
    as the worker would leave it."""
    psql(
        "UPDATE identity.sessions SET status = :'p2', last_report_id = NULLIF(:'p3', ''),"
        " last_error_code = NULLIF(:'p4', ''), last_error_reason = NULLIF(:'p5', ''),"
        " client_secret_hash = CASE WHEN :'p2' = 'requires_input' THEN client_secret_hash END,"
        " client_secret_sealed = CASE WHEN :'p2' = 'requires_input' THEN client_secret_sealed END"
        " WHERE id = :'p1'",
        sid, status, report or "", error[0] if error else "", error[1] if error else "",
    )


def insert_report(psql, session, *, kind="document", ref=None, document=None, id_number=None,
                  selfie=None):
    rid = "vr_" + rand(24)
    psql(
        "INSERT INTO identity.reports (id, session_id, account_id, livemode, type,"
        " client_reference_id, options, document, id_number, selfie)"
        " VALUES (:'p1', :'p2', :'p3', :'p4'::boolean, :'p5', NULLIF(:'p6', ''), '{}',"
        " NULLIF(:'p7', '')::jsonb, NULLIF(:'p8', '')::jsonb, NULLIF(:'p9', '')::jsonb)",
        rid, session["id"], session_account(psql, session["id"]), str(session["livemode"]).lower(),
        kind, ref or "", json.dumps(document) if document else "",
        json.dumps(id_number) if id_number else "", json.dumps(selfie) if selfie else "",
    )
    return rid


def session_account(psql, sid):
    return session_row(psql, sid, "account_id")[0]


def events_of(psql, sid):
    rows = psql(
        "SELECT type, data::text FROM core.events WHERE data->'object'->>'id' = :'p1' ORDER BY seq",
        sid,
    )
    return [(t, json.loads(d)) for t, d in rows]


# ---- create ----


@pytest.mark.smoke
def test_create_shape(api, key, stack):
    ref = "ref_" + rand()
    s = create(
        api, key,
        ("options[document][allowed_types][0]", "passport"),
        ("options[document][allowed_types][1]", "id_card"),
        ("options[document][require_matching_selfie]", "true"),
        ("options[document][require_id_number]", "false"),
        ("metadata[order]", "6735"),
        ("client_reference_id", ref),
        ("return_url", "https://example.com/done"),
        ("related_customer", "cus_123"),
        ("related_person[account]", "acct_1"),
        ("related_person[person]", "person_1"),
    )
    assert list(s) == FIELDS[:13] + ["related_person"] + FIELDS[13:]
    assert VS_ID.match(s["id"])
    assert s["object"] == "identity.verification_session"
    assert s["status"] == "requires_input" and s["type"] == "document"
    assert s["livemode"] is False and s["last_error"] is None and s["redaction"] is None
    assert s["client_reference_id"] == ref and s["metadata"] == {"order": "6735"}
    assert s["options"] == {
        "document": {"allowed_types": ["passport", "id_card"], "require_id_number": False,
                     "require_matching_selfie": True}
    }
    assert s["related_person"] == {"account": "acct_1", "person": "person_1"}
    assert s["related_customer"] == "cus_123" and s["related_customer_account"] is None
    m = SECRET.match(s["client_secret"])
    assert m and m.group(1) == s["id"] and m.group(2) == "test"
    assert s["url"] == f"{stack.base_url}/identity/verify?client_secret={s['client_secret']}"
    assert abs(s["created"] - time.time()) < 60


def test_create_id_number_minimal(api, key):
    s = ok(api("POST", PATH, [("type", "id_number")], key=key))
    assert list(s) == FIELDS
    assert s["type"] == "id_number" and s["options"] == {} and s["metadata"] == {}


def test_create_stores_secrets_sealed(api, key, psql):
    s = create(api, key, ("provided_details[email]", "planted-" + rand() + "@example.com"))
    pd, cs_hash, cs_sealed, key_id = session_row(
        psql, s["id"],
        "encode(provided_details_sealed, 'hex'), encode(client_secret_hash, 'hex'),"
        " encode(client_secret_sealed, 'hex'), key_id",
    )
    assert cs_hash == hashlib.sha256(s["client_secret"].encode()).hexdigest()
    assert pd and cs_sealed and key_id
    assert s["client_secret"].encode().hex() not in cs_sealed


@pytest.mark.parametrize(
    "params, param, code",
    [
        ([], "type", "parameter_missing"),
        ([("type", "")], "type", "parameter_invalid_empty"),
        ([("type", "selfie")], "type", None),
        ([("verification_flow", "vf_1")], "verification_flow", None),
        ([("type", "document"), ("verification_flow", "vf_1")], "verification_flow", None),
        ([("type", "document"), ("options[document][allowed_types][0]", "visa")],
         "options[document][allowed_types][0]", None),
        ([("type", "document"), ("options[document][allowed_types][0]", "passport"),
          ("options[document][allowed_types][1]", "passport")],
         "options[document][allowed_types][1]", None),
        ([("type", "document"), ("options[document][allowed_types]", "passport")],
         "options[document][allowed_types]", None),
        ([("type", "document"), ("options[document][require_id_number]", "yes")],
         "options[document][require_id_number]", None),
        ([("type", "document"), ("options[document][colour]", "red")],
         "options[document][colour]", "parameter_unknown"),
        ([("type", "document"), ("options[email][require_verification]", "true")],
         "options[email]", "parameter_unknown"),
        ([("type", "document"), ("options", "x")], "options", None),
        ([("type", "document"), ("provided_details[email]", "not-an-email")],
         "provided_details[email]", None),
        ([("type", "document"), ("provided_details[phone]", "call me")],
         "provided_details[phone]", None),
        ([("type", "document"), ("provided_details[fax]", "1")], "provided_details[fax]",
         "parameter_unknown"),
        ([("type", "document"), ("return_url", "example.com/x")], "return_url", None),
        ([("type", "document"), ("return_url", "javascript:alert(1)")], "return_url", None),
        ([("type", "document"), ("return_url", "https:///nohost")], "return_url", None),
        ([("type", "document"), ("related_person[account]", "acct_1")],
         "related_person[person]", "parameter_missing"),
        ([("type", "document"), ("related_person[person]", "person_1")],
         "related_person[account]", "parameter_missing"),
        ([("type", "document"), ("metadata[" + "k" * 41 + "]", "v")], "metadata[" + "k" * 41 + "]",
         None),
        ([("type", "document"), ("metadata[k]", "v" * 501)], "metadata[k]", None),
        ([("type", "document"), ("client_reference_id", "")], "client_reference_id",
         "parameter_invalid_empty"),
        ([("type", "document"), ("colour", "red")], "colour", "parameter_unknown"),
        ([("type", "document"), ("expand[0]", "payload")], "expand", None),
    ],
)
def test_create_rejections(api, key, params, param, code):
    assert_error(api("POST", PATH, params, key=key), 400, code=code, param=param)


def test_create_metadata_limits(api, key):
    many = [("type", "document")] + [(f"metadata[k{i}]", "v") for i in range(51)]
    assert_error(api("POST", PATH, many, key=key), 400, code=None, param="metadata")
    fifty = [("type", "document")] + [(f"metadata[k{i}]", "v") for i in range(50)]
    assert len(ok(api("POST", PATH, fifty, key=key))["metadata"]) == 50


def test_create_options_empty_clears(api, key):
    assert create(api, key, ("options[document]", ""))["options"] == {}
    assert create(api, key, ("options", ""))["options"] == {}
    assert create(api, key, ("options[document][require_live_capture]", "true"))["options"] == {
        "document": {"require_live_capture": True}
    }


def test_create_needs_a_key(api):
    assert api("POST", PATH, [("type", "document")]).status == 401


def test_create_idempotent(api, key, psql):
    idem = "idem-" + rand()
    a = create(api, key, headers={"Idempotency-Key": idem})
    b = ok(api("POST", PATH, [("type", "document")], key=key, headers={"Idempotency-Key": idem}))
    assert a == b
    assert api("POST", PATH, [("type", "id_number")], key=key,
               headers={"Idempotency-Key": idem}).status == 400
    assert len(events_of(psql, a["id"])) == 1


def test_create_event_and_audit(api, key, psql):
    ref = "ref_" + rand()
    s = create(api, key, ("client_reference_id", ref), ("provided_details[phone]", "+14155550100"))
    evs = events_of(psql, s["id"])
    assert [t for t, _ in evs] == ["identity.verification_session.created"]
    obj = evs[0][1]["object"]
    # Events hold no bearer secret and no expandable personal data.
    assert obj["client_secret"] is None and obj["url"] is None
    assert "provided_details" not in obj and obj["client_reference_id"] == ref
    rows = psql("SELECT action, status FROM core.audit WHERE object_id = :'p1'", s["id"])
    assert ("identity.session.create", "200") in rows
    assert psql("SELECT count(*) FROM core.audit a WHERE a.object_id = :'p1'"
                " AND strpos(a::text, '4155550') > 0", s["id"]) == [("0",)]


def test_app_key_acts_for_installed_account(api, stack, psql):
    app = stack.apps[0]
    acct = stack.accounts[1]["id"]
    s = ok(api("POST", PATH, [("type", "document")], key=app["secret_key"],
               headers={"Stripe-Account": acct}))
    assert session_row(psql, s["id"], "account_id, app_id") == (acct, app["id"])
    # The account itself sees it; the app's owner account (without the header) does not.
    assert ok(api("GET", f"{PATH}/{s['id']}", key=stack.accounts[1]["secret_key"]))["id"] == s["id"]
    assert api("GET", f"{PATH}/{s['id']}", key=app["secret_key"]).status == 404


# ---- retrieve ----


def test_retrieve(api, key):
    s = create(api, key, ("provided_details[email]", "a@example.com"))
    got = ok(api("GET", f"{PATH}/{s['id']}", key=key))
    assert got == s
    exp = ok(api("GET", f"{PATH}/{s['id']}", [("expand[]", "provided_details")], key=key))
    assert exp["provided_details"] == {"email": "a@example.com"}
    assert list(exp) == FIELDS[:10] + ["provided_details"] + FIELDS[10:]


def test_retrieve_missing(api, key, other_key, stack):
    s = create(api, key)
    for k, sid in [(key, "vs_" + rand(24)), (other_key, s["id"]),
                   (stack.accounts[0]["live_secret_key"], s["id"])]:
        err = assert_error(api("GET", f"{PATH}/{sid}", key=k), 404, code="resource_missing",
                           param=None)
        assert err["message"] == f"No such verificationsession: '{sid}'"


def test_retrieve_rejections(api, key):
    s = create(api, key)
    assert_error(api("GET", f"{PATH}/{s['id']}", [("expand[]", "client_secret")], key=key), 400,
                 code=None, param="expand")
    assert_error(api("GET", f"{PATH}/{s['id']}", [("foo", "1")], key=key), 400,
                 code="parameter_unknown", param="foo")


def test_retrieve_reissues_a_cleared_secret(api, key, psql):
    s = create(api, key)
    psql("UPDATE identity.sessions SET client_secret_hash = NULL, client_secret_sealed = NULL"
         " WHERE id = :'p1'", s["id"])
    got = ok(api("GET", f"{PATH}/{s['id']}", key=key))
    assert SECRET.match(got["client_secret"]) and got["client_secret"] != s["client_secret"]
    assert got["url"].endswith(got["client_secret"])
    # The new one is the one stored, and it stays.
    assert ok(api("GET", f"{PATH}/{s['id']}", key=key))["client_secret"] == got["client_secret"]


def test_secret_only_in_requires_input(api, key, psql):
    s = create(api, key)
    for status in ["processing", "verified"]:
        set_state(psql, s["id"], status)
        got = ok(api("GET", f"{PATH}/{s['id']}", key=key))
        assert got["status"] == status and got["client_secret"] is None and got["url"] is None


def test_live_key_makes_livemode_sessions(api, stack):
    live = stack.accounts[0]["live_secret_key"]
    s = create(api, live)
    assert s["livemode"] is True and SECRET.match(s["client_secret"]).group(2) == "live"
    assert api("GET", f"{PATH}/{s['id']}", key=stack.accounts[0]["secret_key"]).status == 404


# ---- update ----


def test_update(api, key, psql):
    s = create(api, key, ("metadata[a]", "1"), ("metadata[b]", "2"),
               ("provided_details[email]", "old@example.com"),
               ("provided_details[phone]", "+14155550100"))
    u = ok(api("POST", f"{PATH}/{s['id']}", [
        ("type", "id_number"), ("metadata[a]", ""), ("metadata[c]", "3"),
        ("options[document][require_id_number]", "true"),
        ("provided_details[email]", "new@example.com"), ("expand[0]", "provided_details"),
    ], key=key))
    assert u["type"] == "id_number" and u["metadata"] == {"b": "2", "c": "3"}
    assert u["options"] == {"document": {"require_id_number": True}}
    assert u["provided_details"] == {"email": "new@example.com", "phone": "+14155550100"}
    assert u["client_secret"] == s["client_secret"]
    u = ok(api("POST", f"{PATH}/{s['id']}", [("metadata", ""), ("options[document]", "")], key=key))
    assert u["metadata"] == {} and u["options"] == {} and u["type"] == "id_number"
    rows = psql("SELECT action FROM core.audit WHERE object_id = :'p1' AND status = '200'", s["id"])
    assert ("identity.session.update",) in rows


def test_update_rejections(api, key):
    s = create(api, key)
    for params, param, code in [
        ([("type", "flow")], "type", None),
        ([("client_reference_id", "x")], "client_reference_id", "parameter_unknown"),
        ([("return_url", "https://x.example")], "return_url", "parameter_unknown"),
        ([("provided_details[email]", "x")], "provided_details[email]", None),
    ]:
        assert_error(api("POST", f"{PATH}/{s['id']}", params, key=key), 400, code=code,
                     param=param)
    assert_error(api("POST", f"{PATH}/vs_{rand(24)}", [("metadata[a]", "b")], key=key), 404,
                 code="resource_missing", param=None)


def test_update_metadata_total_limit(api, key):
    s = create(api, key, *[(f"metadata[k{i}]", "v") for i in range(50)])
    assert_error(api("POST", f"{PATH}/{s['id']}", [("metadata[one_more]", "v")], key=key), 400,
                 code=None, param="metadata")


@pytest.mark.parametrize("status", ["processing", "verified", "canceled"])
def test_update_only_in_requires_input(api, key, psql, status):
    s = create(api, key, ("metadata[a]", "1"))
    set_state(psql, s["id"], status)
    err = assert_error(api("POST", f"{PATH}/{s['id']}", [("metadata[a]", "2")], key=key), 400,
                       code=None, param=None, message=WRONG_STATE)
    assert f"`{status}`" in err["message"]
    assert ok(api("GET", f"{PATH}/{s['id']}", key=key))["metadata"] == {"a": "1"}


# ---- cancel ----


def test_cancel(api, key, psql):
    s = create(api, key)
    c = ok(api("POST", f"{PATH}/{s['id']}/cancel", key=key))
    assert c["status"] == "canceled" and c["client_secret"] is None and c["url"] is None
    assert session_row(psql, s["id"], "client_secret_hash IS NULL")[0] == "t"
    assert [t for t, _ in events_of(psql, s["id"])] == [
        "identity.verification_session.created", "identity.verification_session.canceled"]
    # The secret no longer opens the hosted flow.
    resp = api("GET", "/identity/api/session", headers={"Authorization": f"Bearer {s['client_secret']}"})
    assert resp.status == 401
    # And canceled is final.
    assert_error(api("POST", f"{PATH}/{s['id']}/cancel", key=key), 400, code=None, param=None,
                 message=WRONG_STATE)
    assert ok(api("GET", f"{PATH}/{s['id']}", key=key))["client_secret"] is None


@pytest.mark.parametrize("status", ["processing", "verified"])
def test_cancel_only_in_requires_input(api, key, psql, status):
    s = create(api, key)
    set_state(psql, s["id"], status)
    assert_error(api("POST", f"{PATH}/{s['id']}/cancel", key=key), 400, code=None, param=None,
                 message=WRONG_STATE)
    assert ok(api("GET", f"{PATH}/{s['id']}", key=key))["status"] == status


def test_cancel_rejections(api, key, other_key):
    s = create(api, key)
    assert_error(api("POST", f"{PATH}/{s['id']}/cancel", key=other_key), 404,
                 code="resource_missing", param=None)
    assert_error(api("POST", f"{PATH}/{s['id']}/cancel", [("metadata[a]", "b")], key=key), 400,
                 code="parameter_unknown", param="metadata")


# ---- list ----


def test_list_filters_and_pages(api, key, psql):
    ref = "ref_" + rand()
    made = [create(api, key, ("client_reference_id", ref),
                   ("related_customer", "cus_even" if i % 2 == 0 else "cus_odd")) for i in range(5)]
    ids = [s["id"] for s in reversed(made)]  # newest first
    page = ok(api("GET", PATH, [("client_reference_id", ref)], key=key))
    assert list(page) == ["object", "data", "has_more", "url"]
    assert page["object"] == "list" and page["url"] == PATH and page["has_more"] is False
    assert [s["id"] for s in page["data"]] == ids

    # Forward in pages of two, then back.
    seen, after = [], None
    while True:
        params = [("client_reference_id", ref), ("limit", "2")]
        if after:
            params.append(("starting_after", after))
        p = ok(api("GET", PATH, params, key=key))
        seen += [s["id"] for s in p["data"]]
        if not p["has_more"]:
            break
        after = p["data"][-1]["id"]
    assert seen == ids
    back = ok(api("GET", PATH, [("client_reference_id", ref), ("limit", "2"),
                                ("ending_before", ids[4])], key=key))
    assert [s["id"] for s in back["data"]] == ids[2:4] and back["has_more"] is True
    back = ok(api("GET", PATH, [("client_reference_id", ref), ("limit", "2"),
                                ("ending_before", ids[2])], key=key))
    assert [s["id"] for s in back["data"]] == ids[0:2] and back["has_more"] is False

    odd = ok(api("GET", PATH, [("client_reference_id", ref), ("related_customer", "cus_odd")], key=key))
    assert [s["id"] for s in odd["data"]] == [i for i in ids if i in (made[1]["id"], made[3]["id"])]

    ok(api("POST", f"{PATH}/{made[0]['id']}/cancel", key=key))
    canceled = ok(api("GET", PATH, [("client_reference_id", ref), ("status", "canceled")], key=key))
    assert [s["id"] for s in canceled["data"]] == [made[0]["id"]]

    # created: move two sessions into the past and filter on whole seconds.
    psql("UPDATE identity.sessions SET created = to_timestamp(1600000000.5) WHERE id = :'p1'",
         made[1]["id"])
    psql("UPDATE identity.sessions SET created = to_timestamp(1600000100) WHERE id = :'p1'",
         made[2]["id"])
    for params, want in [
        ([("created", "1600000000")], [made[1]]),
        ([("created[gt]", "1600000000"), ("created[lt]", "1700000000")], [made[2]]),
        ([("created[gte]", "1600000000"), ("created[lte]", "1600000100")], [made[2], made[1]]),
        ([("created[lte]", "1600000099")], [made[1]]),
        ([("created[gt]", "1600000100")], [made[4], made[3], made[0]]),
        ([("created[gt]", "5"), ("created[lt]", "3")], []),
    ]:
        got = ok(api("GET", PATH, [("client_reference_id", ref), *params], key=key))
        assert {s["id"] for s in got["data"]} == {s["id"] for s in want}, params


def test_list_isolation(api, key, other_key, stack):
    ref = "ref_" + rand()
    mine = create(api, key, ("client_reference_id", ref))
    create(api, other_key, ("client_reference_id", ref))
    create(api, stack.accounts[0]["live_secret_key"], ("client_reference_id", ref))
    got = ok(api("GET", PATH, [("client_reference_id", ref)], key=key))
    assert [s["id"] for s in got["data"]] == [mine["id"]]


def test_list_rejections(api, key, other_key):
    theirs = create(api, other_key)
    for params, status, code, param in [
        ([("limit", "0")], 400, None, "limit"),
        ([("limit", "101")], 400, None, "limit"),
        ([("limit", "x")], 400, "parameter_invalid_integer", "limit"),
        ([("status", "done")], 400, None, "status"),
        ([("created[after]", "1")], 400, "parameter_unknown", "created[after]"),
        ([("created", "soon")], 400, "parameter_invalid_integer", "created"),
        ([("starting_after", "vs_" + rand(24))], 400, "resource_missing", "starting_after"),
        ([("ending_before", theirs["id"])], 400, "resource_missing", "ending_before"),
        ([("type", "document")], 400, "parameter_unknown", "type"),
        ([("expand[]", "verified_outputs")], 400, None, "expand"),
    ]:
        assert_error(api("GET", PATH, params, key=key), status, code=code, param=param)


def test_list_expand(api, key):
    ref = "ref_" + rand()
    create(api, key, ("client_reference_id", ref), ("provided_details[email]", "l@example.com"))
    got = ok(api("GET", PATH, [("client_reference_id", ref), ("expand[]", "data.provided_details"),
                               ("expand[]", "data.verified_outputs")], key=key))
    assert got["data"][0]["provided_details"] == {"email": "l@example.com"}
    assert got["data"][0]["verified_outputs"] is None


# ---- reports and expansions of a verified session ----


DOC = {"status": "verified", "error": None, "type": "passport", "issuing_country": "US",
       "files": ["file_a", "file_b"], "first_name": "Jenny", "last_name": "Rosen",
       "dob": {"day": 2, "month": 3, "year": 1990}, "number": "X1234567",
       "expiration_date": {"day": 1, "month": 1, "year": 2035}}
DOC_FIELDS = ["address", "error", "files", "first_name", "issued_date", "issuing_country",
              "last_name", "status", "type"]


def verified_with_report(api, key, psql, ref=None):
    s = create(api, key, *([("client_reference_id", ref)] if ref else []))
    rid = insert_report(psql, s, ref=ref, document=DOC,
                        selfie={"status": "verified", "error": None, "document": "file_a",
                                "selfie": "file_c"})
    set_state(psql, s["id"], "verified", report=rid)
    return s, rid


def test_report_retrieve(api, key, psql):
    s, rid = verified_with_report(api, key, psql)
    r = ok(api("GET", f"{REPORTS}/{rid}", key=key))
    assert list(r) == ["id", "object", "client_reference_id", "created", "document", "livemode",
                       "options", "selfie", "type", "verification_session"]
    assert r["object"] == "identity.verification_report" and r["verification_session"] == s["id"]
    assert list(r["document"]) == DOC_FIELDS
    assert r["document"]["first_name"] == "Jenny" and r["document"]["files"] == ["file_a", "file_b"]
    assert r["selfie"] == {"document": "file_a", "error": None, "selfie": "file_c",
                           "status": "verified"}
    full = ok(api("GET", f"{REPORTS}/{rid}", [("expand[]", "document.dob"),
                                              ("expand[]", "document.number"),
                                              ("expand[]", "document.expiration_date")], key=key))
    assert full["document"]["dob"] == {"day": 2, "month": 3, "year": 1990}
    assert full["document"]["number"] == "X1234567"
    assert full["document"]["expiration_date"] == {"day": 1, "month": 1, "year": 2035}
    rows = psql("SELECT action FROM core.audit WHERE object_id = :'p1'", rid)
    assert ("identity.report.read",) in rows
    assert_error(api("GET", f"{REPORTS}/vr_{rand(24)}", key=key), 404, code="resource_missing",
                 param=None)
    assert_error(api("GET", f"{REPORTS}/{rid}", [("expand[]", "document.nope")], key=key), 400,
                 code=None, param="expand")


def test_session_expands_last_report(api, key, psql):
    s, rid = verified_with_report(api, key, psql)
    got = ok(api("GET", f"{PATH}/{s['id']}", key=key))
    assert got["last_verification_report"] == rid and got["status"] == "verified"
    got = ok(api("GET", f"{PATH}/{s['id']}", [("expand[]", "last_verification_report"),
                                              ("expand[]", "last_verification_report.document.dob")],
                 key=key))
    lvr = got["last_verification_report"]
    assert lvr["id"] == rid and lvr["document"]["dob"] == {"day": 2, "month": 3, "year": 1990}
    assert "number" not in lvr["document"]


def test_report_list(api, key, psql):
    ref = "ref_" + rand()
    made = [verified_with_report(api, key, psql, ref) for _ in range(3)]
    rids = [rid for _, rid in reversed(made)]
    got = ok(api("GET", REPORTS, [("client_reference_id", ref)], key=key))
    assert got["url"] == REPORTS and [r["id"] for r in got["data"]] == rids
    p = ok(api("GET", REPORTS, [("client_reference_id", ref), ("limit", "1"),
                                ("starting_after", rids[0])], key=key))
    assert [r["id"] for r in p["data"]] == [rids[1]] and p["has_more"] is True
    p = ok(api("GET", REPORTS, [("client_reference_id", ref), ("ending_before", rids[2])], key=key))
    assert [r["id"] for r in p["data"]] == rids[:2] and p["has_more"] is False
    by_session = ok(api("GET", REPORTS, [("verification_session", made[0][0]["id"])], key=key))
    assert [r["id"] for r in by_session["data"]] == [made[0][1]]
    assert ok(api("GET", REPORTS, [("client_reference_id", ref), ("type", "id_number")],
                  key=key))["data"] == []
    for params, code, param in [
        ([("type", "selfie")], None, "type"),
        ([("starting_after", "vr_" + rand(24))], "resource_missing", "starting_after"),
        ([("status", "x")], "parameter_unknown", "status"),
    ]:
        assert_error(api("GET", REPORTS, params, key=key), 400, code=code, param=param)


# ---- redaction ----


def png(side=240):
    """A grey RGB PNG of side x side pixels (the checks want 200 at least)."""
    raw = (b"\x00" + b"\x80" * 3 * side) * side

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(api, secret, purpose):
    boundary = "b" + rand(16)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png() + f"\r\n--{boundary}--\r\n".encode()
    return api("POST", "/identity/api/files", body=body,
               headers={"Authorization": f"Bearer {secret}",
                        "Content-Type": f"multipart/form-data; boundary={boundary}"})


def dump_identity(stack):
    """Every row of the identity schema, as text (pg_dump --data-only)."""
    out = subprocess.run(["pg_dump", "--data-only", "--schema=identity"], env=stack.pg_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def wait_redacted(api, key, sid):
    done = wait_for(lambda: ok(api("GET", f"{PATH}/{sid}", key=key))["redaction"]
                    == {"status": "redacted"}, 15)
    assert done, "redaction did not finish"
    return ok(api("GET", f"{PATH}/{sid}", key=key))


def test_redact_requires_input_erases_and_cancels(api, key, stack, psql):
    planted = "Planted" + rand()
    email = f"{planted.lower()}@example.com"
    s = create(api, key, ("metadata[name]", planted), ("provided_details[email]", email),
               ("provided_details[phone]", "+14155550123"),
               ("options[document][allowed_types][0]", "passport"))
    secret = s["client_secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    # A person got part of the way through the hosted flow.
    ok(api("POST", "/identity/api/consent", [("accepted", "true")], headers=auth))
    ok(api("POST", "/identity/api/data", [("document_type", "passport"), ("first_name", planted),
                                          ("last_name", "Rosen"), ("document_number", "P" + planted[-8:])],
           headers=auth))
    ok(upload(api, secret, "document_front"))
    assert psql("SELECT count(*) FROM identity.files WHERE session_id = :'p1'", s["id"]) == [("1",)]

    r = ok(api("POST", f"{PATH}/{s['id']}/redact", [("expand[]", "provided_details")], key=key))
    assert r["status"] == "canceled" and r["redaction"] in ({"status": "processing"},
                                                            {"status": "redacted"})
    assert r["metadata"] == {} and r["client_secret"] is None and r["url"] is None
    assert r["provided_details"] == {"email": "[redacted]", "phone": "[redacted]"}
    assert api("GET", "/identity/api/session", headers=auth).status == 401

    r = wait_redacted(api, key, s["id"])
    assert r["metadata"] == {} and r["status"] == "canceled"
    assert psql("SELECT count(*) FROM identity.files WHERE session_id = :'p1'", s["id"]) == [("0",)]
    sealed = session_row(psql, s["id"],
                         "num_nonnulls(provided_details_sealed, client_secret_hash,"
                         " client_secret_sealed, verified_outputs_sealed, submission_sealed)")
    assert sealed == ("0",)
    dump = dump_identity(stack)
    for value in [planted, planted.lower(), email, "4155550123", secret]:
        assert value not in dump, value
    types = [t for t, _ in events_of(psql, s["id"])]
    assert types == ["identity.verification_session.created",
                     "identity.verification_session.canceled",
                     "identity.verification_session.redacted"]
    rows = psql("SELECT action FROM core.audit WHERE object_id = :'p1' AND status = '200'", s["id"])
    assert ("identity.session.redact",) in rows


def test_redact_verified_redacts_reports(api, key, psql):
    s, rid = verified_with_report(api, key, psql)
    r = ok(api("POST", f"{PATH}/{s['id']}/redact", key=key))
    assert r["status"] == "verified" and r["redaction"]["status"] in ("processing", "redacted")
    wait_redacted(api, key, s["id"])
    # A verified session stays verified: no canceled event.
    assert [t for t, _ in events_of(psql, s["id"])] == [
        "identity.verification_session.created", "identity.verification_session.redacted"]
    assert psql("SELECT redacted, personal_sealed IS NULL FROM identity.reports WHERE id = :'p1'",
                rid) == [("t", "t")]
    got = ok(api("GET", f"{PATH}/{s['id']}", [("expand[]", "verified_outputs")], key=key))
    assert got["verified_outputs"] is None  # nothing was ever verified into it here
    # Redacted sessions can be read, not changed; redacting again changes nothing.
    assert ok(api("POST", f"{PATH}/{s['id']}/redact", key=key))["redaction"] == {"status": "redacted"}
    assert_error(api("POST", f"{PATH}/{s['id']}", [("metadata[a]", "b")], key=key), 400,
                 code=None, param=None, message=WRONG_STATE)
    assert_error(api("POST", f"{PATH}/{s['id']}/cancel", key=key), 400, code=None, param=None,
                 message=WRONG_STATE)


def test_redact_placeholders(api, key, psql):
    """The placeholders of a session with verified outputs: planted in
    redacted_view as redaction leaves it, then served."""
    s = create(api, key)
    set_state(psql, s["id"], "verified")
    ok(api("POST", f"{PATH}/{s['id']}/redact", key=key))
    wait_redacted(api, key, s["id"])
    view = {"provided_details": None, "verified_outputs": {
        "first_name": "[redacted]", "last_name": "[redacted]", "dob": {"day": 1, "month": 1, "year": 1},
        "address": {"line1": "[redacted]", "city": "[redacted]", "country": "US"},
        "id_number": "[redacted]", "id_number_type": None}}
    psql("UPDATE identity.sessions SET redacted_view = :'p2'::jsonb WHERE id = :'p1'", s["id"],
         json.dumps(view))
    got = ok(api("GET", f"{PATH}/{s['id']}", [("expand[]", "verified_outputs.dob"),
                                              ("expand[]", "provided_details")], key=key))
    vo = got["verified_outputs"]
    assert list(vo) == ["address", "dob", "email", "first_name", "id_number_type", "last_name",
                        "phone"]
    assert vo["first_name"] == "[redacted]" and vo["dob"] == {"day": 1, "month": 1, "year": 1}
    assert vo["address"] == {"city": "[redacted]", "country": "US", "line1": "[redacted]",
                             "line2": None, "postal_code": None, "state": None}
    assert got["provided_details"] is None and got["metadata"] == {}


def test_redact_processing_refused(api, key, psql):
    s = create(api, key)
    set_state(psql, s["id"], "processing")
    assert_error(api("POST", f"{PATH}/{s['id']}/redact", key=key), 400, code=None, param=None,
                 message=re.compile("processing"))
    assert ok(api("GET", f"{PATH}/{s['id']}", key=key))["redaction"] is None


def test_redact_canceled_allowed(api, key):
    s = create(api, key, ("metadata[a]", "b"))
    ok(api("POST", f"{PATH}/{s['id']}/cancel", key=key))
    r = ok(api("POST", f"{PATH}/{s['id']}/redact", key=key))
    assert r["status"] == "canceled" and r["metadata"] == {} and r["redaction"] is not None


def test_redact_missing(api, key, other_key):
    s = create(api, key)
    assert_error(api("POST", f"{PATH}/{s['id']}/redact", key=other_key), 404,
                 code="resource_missing", param=None)
