"""The hosted verification page and its JSON endpoints (svc-identity page.c,
page_api.c, page_flow.c) and the checks worker (process.c), end to end
through nginx: sessions are created with the API, walked with the client
secret alone, and their outcome read back through the API once the worker ran.

Covered: the JSON endpoints step by step, the page's forms (urlencoded and
multipart), uploads (type by magic bytes, size, header), the secret's lifetime
(canceled, verified, processing), the magic test numbers, every test-mode
outcome, the processing delay, the security headers, and that no log line
records a client secret."""

import json
import re
import struct
import time
import uuid
import zlib

import pytest

from stackapi import assert_error, assert_stripe_error, wait_for

SESSIONS = "/v1/identity/verification_sessions"
REDACTED_SECRET = re.compile(r"_secret_(test|live)_[A-Za-z0-9]{32}")


# ---- images and bodies -------------------------------------------------------


def png(width=240, height=240):
    """A valid grayscale PNG (signature, IHDR, IDAT, IEND)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((x * 7 + y) & 0xFF for x in range(width)) for y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg(width=320, height=240):
    """A JPEG header as far as its frame header (SOI, APP0 JFIF, SOF0), EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof
        + b"\xff\xd9"
    )


def multipart(fields, files):
    """(content_type, body) for text fields {name: value} and files
    {name: (filename, content_type, bytes)}."""
    boundary = "----idpage" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, ctype, data) in files.items():
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


# ---- MRZ of the ICAO 9303 specimen, moved to a real state and a chosen expiry --


def check_digit(s):
    values = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(s)) % 10)


def specimen_mrz(expiry, state="NLD"):
    """The TD3 zone of ICAO's specimen passport (ERIKSSON, ANNA MARIA,
    L898902C3, born 1974-08-12) issued by `state`, expiring on `expiry`
    (YYYY-MM-DD), with every check digit recomputed."""
    exp = expiry[2:4] + expiry[5:7] + expiry[8:10]
    line1 = f"P<{state}ERIKSSON<<ANNA<MARIA".ljust(44, "<")
    number, dob, optional = "L898902C3", "740812", "ZE184226B<<<<<"
    opt_cd = check_digit(optional)
    body = number + check_digit(number) + state + dob + check_digit(dob) + "F" + exp + check_digit(exp)
    composite = number + check_digit(number) + dob + check_digit(dob) + exp + check_digit(exp) + optional + opt_cd
    line2 = body + optional + opt_cd + check_digit(composite)
    assert len(line1) == 44 and len(line2) == 44
    return line1 + "\n" + line2


FUTURE = f"{time.gmtime().tm_year + 8}-04-15"
PAST = "2012-04-15"

PASSPORT_DATA = {
    "first_name": "Anna",
    "last_name": "Eriksson",
    "dob": "1974-08-12",
    "document_number": "L898902C3",
    "expiration_date": FUTURE,
    "issuing_country": "NL",
    "mrz": specimen_mrz(FUTURE),
}


# ---- helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def key(stack):
    return stack.accounts[0]["secret_key"]


def create(api, key, *params):
    r = api("POST", SESSIONS, list(params), key=key)
    assert r.status == 200, r.body
    assert r.body["client_secret"].startswith(r.body["id"] + "_secret_test_")
    return r.body


def call(api, path, secret=None, params=(), *, method="POST", body=None, ctype=None, bearer=True):
    headers = {}
    if secret is not None and bearer:
        headers["Authorization"] = f"Bearer {secret}"
    if ctype is not None:
        headers["Content-Type"] = ctype
    return api(method, path, list(params), headers=headers, body=body)


def upload(api, secret, purpose, data, filename="photo.png", ctype="image/png", live=None):
    fields = {"purpose": purpose}
    if live is not None:
        fields["live_capture"] = live
    mctype, body = multipart(fields, {"file": (filename, ctype, data)})
    return call(api, "/identity/api/files", secret, body=body, ctype=mctype)


def retrieve(api, key, vs, *expand):
    r = api("GET", f"{SESSIONS}/{vs}", [("expand[]", e) for e in expand], key=key)
    assert r.status == 200, r.body
    return r.body


def wait_status(api, key, vs, *statuses, timeout=20):
    seen = {}

    def done():
        seen["s"] = retrieve(api, key, vs, "verified_outputs", "verified_outputs.dob")
        return seen["s"]["status"] in statuses

    assert wait_for(done, timeout), f"{vs} stayed {seen['s']['status']}"
    return seen["s"]


def passport_ready(api, key, data=None, *extra, selfie=False):
    """A passport session with consent, the front photo (and a selfie) and
    data given."""
    s = create(api, key, ("type", "document"), ("options[document][allowed_types][]", "passport"), *extra)
    secret = s["client_secret"]
    r = call(api, "/identity/api/consent", secret, [("accepted", "true")])
    assert r.status == 200, r.body
    assert r.body["document_type"] == "passport"  # the only allowed type is chosen for the person
    r = upload(api, secret, "document_front", png())
    assert r.status == 200, r.body
    if selfie:
        assert upload(api, secret, "selfie", jpeg()).status == 200
    r = call(api, "/identity/api/data", secret, body=json.dumps(data or PASSPORT_DATA), ctype="application/json")
    assert r.status == 200, r.body
    assert r.body["missing"] == [], r.body
    return s


def id_number_ready(api, key, number, country="US", dob="1980-02-03"):
    s = create(api, key, ("type", "id_number"))
    secret = s["client_secret"]
    assert call(api, "/identity/api/consent", secret, [("accepted", "true")]).status == 200
    r = call(
        api,
        "/identity/api/data",
        secret,
        [("first_name", "Jenny"), ("last_name", "Rosen"), ("dob", dob), ("id_number", number), ("id_number_country", country)],
    )
    assert r.status == 200, r.body
    assert r.body["missing"] == []
    return s


# ---- the JSON endpoints ----------------------------------------------------------


def test_session_state_walks_the_steps(api, key):
    s = create(api, key, ("type", "document"), ("options[document][require_matching_selfie]", "true"))
    secret = s["client_secret"]
    r = call(api, "/identity/api/session", secret, method="GET")
    assert r.status == 200, r.body
    b = r.body
    assert b["object"] == "identity.hosted_verification" and b["id"] == s["id"]
    assert b["status"] == "requires_input" and b["type"] == "document" and b["livemode"] is False
    assert b["options"]["document"]["allowed_types"] == ["driving_license", "id_card", "passport"]
    assert b["consent"] is False and b["document_type"] is None and b["uploaded"] == []
    assert b["missing"] == ["consent", "document_type", "document_front", "document_back", "selfie", "document_data"]
    assert "verified" in b["test_outcomes"] and "processing_delay" in b["test_outcomes"]
    assert "selfie_face_mismatch" in b["test_outcomes"] and "id_number_mismatch" not in b["test_outcomes"]

    # The secret also works from the query of a GET and from a form body.
    r = call(api, "/identity/api/session", None, [("client_secret", secret)], method="GET")
    assert r.status == 200 and r.body["id"] == s["id"]

    # Nothing but consent may come first.
    r = upload(api, secret, "document_front", png())
    assert_stripe_error(r, 400, "Consent is needed")
    r = call(api, "/identity/api/data", secret, [("first_name", "A")])
    assert_stripe_error(r, 400, "Consent is needed")
    r = call(api, "/identity/api/consent", None, [("client_secret", secret), ("accepted", "true")])
    assert r.status == 200 and r.body["consent"] is True
    assert r.body["missing"][0] == "document_type"

    r = call(api, "/identity/api/data", secret, [("document_type", "id_card")])
    assert r.body["document_type"] == "id_card"
    for purpose in ("document_front", "document_back", "selfie"):
        r = upload(api, secret, purpose, jpeg() if purpose == "selfie" else png())
        assert r.status == 200, r.body
        assert r.body["object"] == "file" and r.body["purpose"] == purpose
        assert re.fullmatch(r"file_[A-Za-z0-9]{24}", r.body["id"])
        assert r.body["type"] == ("jpg" if purpose == "selfie" else "png")
    r = call(api, "/identity/api/session", secret, method="GET")
    assert r.body["uploaded"] == ["document_front", "document_back", "selfie"]
    assert r.body["missing"] == ["document_data"]
    # Choosing a passport makes the back unnecessary; choosing back restores it.
    r = call(api, "/identity/api/data", secret, [("document_type", "passport")])
    assert r.body["missing"] == ["document_data"]
    r = call(api, "/identity/api/data", secret, body=json.dumps(PASSPORT_DATA), ctype="application/json")
    assert r.body["missing"] == []
    # A passport without its MRZ is incomplete.
    r = call(api, "/identity/api/data", secret, [("mrz", "")])
    assert r.body["missing"] == ["document_data"]


def test_data_validation(api, key):
    s = create(api, key, ("type", "document"), ("options[document][allowed_types][]", "passport"))
    secret = s["client_secret"]
    call(api, "/identity/api/consent", secret, [("accepted", "true")])
    cases = [
        ([("dob", "1974-02-30")], "dob", "Invalid dob"),
        ([("dob", "12/08/1974")], "dob", "Invalid dob"),
        ([("expiration_date", "2030-13-01")], "expiration_date", "Invalid expiration_date"),
        ([("issuing_country", "NLD")], "issuing_country", "Invalid issuing_country"),
        ([("issuing_country", "1x")], "issuing_country", "Invalid issuing_country"),
        ([("document_type", "id_card")], "document_type", "This verification does not accept"),
        ([("document_type", "visa")], "document_type", "Invalid document_type"),
        ([("first_name", "x" * 101)], "first_name", None),
    ]
    for params, param, message in cases:
        r = call(api, "/identity/api/data", secret, params)
        assert r.status == 400, (params, r.body)
        assert r.error["param"] == param, (params, r.body)
        if message:
            assert r.error["message"].startswith(message), r.error
    # An ID number does not apply without require_id_number.
    assert_error(call(api, "/identity/api/data", secret, [("id_number", "1")]), 400, code="parameter_unknown", param="id_number")
    assert_error(call(api, "/identity/api/data", secret, [("nickname", "x")]), 400, code="parameter_unknown", param="nickname")
    # Lower-case countries and MRZ as typed in a text box are normalised.
    r = call(api, "/identity/api/data", secret, [("issuing_country", "nl"), ("mrz", PASSPORT_DATA["mrz"].lower().replace("\n", "  \r\n") + "\r\n")])
    assert r.status == 200, r.body
    # Malformed bodies.
    r = call(api, "/identity/api/data", secret, body="[1]", ctype="application/json")
    assert_stripe_error(r, 400, "Invalid JSON body")
    r = call(api, "/identity/api/data", secret, body="x", ctype="text/plain")
    assert r.status == 415
    r = call(api, "/identity/api/consent", secret, [("accepted", "maybe")])
    assert r.status == 400 and r.error["param"] == "accepted"


def test_uploads_type_and_size(stack, api, key):
    s = create(api, key, ("type", "document"))
    secret = s["client_secret"]
    call(api, "/identity/api/consent", secret, [("accepted", "true")])
    call(api, "/identity/api/data", secret, [("document_type", "driving_license")])
    # The type comes from the bytes, not the declared type or name.
    r = upload(api, secret, "document_front", png(), filename="x.jpg", ctype="image/jpeg")
    assert r.status == 200 and r.body["type"] == "png"
    r = upload(api, secret, "document_front", jpeg(), filename="x.png", ctype="image/png")
    assert r.status == 200 and r.body["type"] == "jpg"
    rows = stack_files(stack, s["id"])
    assert rows == [("document_front", "image/jpeg", str(len(jpeg())))], rows
    # Not an image, an image too small to read, a truncated PNG.
    for data in (b"GIF89a" + b"\x00" * 100, b"%PDF-1.4\n", png(50, 50), png()[:-12], b""):
        r = upload(api, secret, "document_back", data)
        assert r.status == 400, r.body
        assert r.error["param"] == "file", r.error
    # Over 5 MB (but under the service's body cap): refused by size.
    big = png()
    big = big[:-12] + b"\x00" * (5 * 1024 * 1024) + big[-12:]
    r = upload(api, secret, "document_back", big)
    assert_error(r, 400, code=None, param="file", message="The file is larger than 5 MB.")
    # Purposes: unknown, or not needed (a selfie that is not required).
    r = upload(api, secret, "passport_photo", png())
    assert r.status == 400 and r.error["param"] == "purpose"
    r = upload(api, secret, "selfie", png())
    assert r.status == 400 and r.error["param"] == "purpose"
    # Not multipart; no file part; two file parts.
    r = call(api, "/identity/api/files", secret, [("purpose", "document_back")])
    assert r.status == 415
    mctype, body = multipart({"purpose": "document_back"}, {})
    assert_error(call(api, "/identity/api/files", secret, body=body, ctype=mctype), 400, code="parameter_missing", param="file")
    mctype, body = multipart({"purpose": "document_back"}, {"file": ("a.png", "image/png", png()), "other": ("b.png", "image/png", png())})
    assert_error(call(api, "/identity/api/files", secret, body=body, ctype=mctype), 400, code="parameter_unknown", param="other")
    # A truncated multipart body is refused whole.
    mctype, body = multipart({"purpose": "document_back"}, {"file": ("a.png", "image/png", png())})
    r = call(api, "/identity/api/files", secret, body=body[:-20], ctype=mctype)
    assert r.status == 400 and "closing delimiter" in r.error["message"]
    # Refused uploads stored nothing.
    assert stack_files(stack, s["id"])[0][0] == "document_front"


def stack_files(stack, vs):
    return stack.psql(
        "SELECT purpose, content_type, size FROM identity.files WHERE session_id = :'p1' ORDER BY purpose", vs
    )


def test_files_are_sealed(stack, api, key):
    s = passport_ready(api, key)
    rows = stack.psql(
        "SELECT position(decode(:'p2', 'hex') IN data_sealed) FROM identity.files WHERE session_id = :'p1'",
        s["id"],
        png()[16:48].hex(),
    )
    assert rows == [("0",)]
    rows = stack.psql(
        "SELECT position(convert_to('Eriksson', 'UTF8') IN submission_sealed) FROM identity.sessions WHERE id = :'p1'",
        s["id"],
    )
    assert rows == [("0",)]


def test_secret_errors(api, key):
    r = call(api, "/identity/api/session", None, method="GET")
    assert_stripe_error(r, 401, "You did not provide a client secret")
    for bad in ("nope", "vs_x_secret_test_" + "a" * 32, "vs_1'; --_secret_test_x"):
        r = call(api, "/identity/api/session", bad, method="GET")
        assert_stripe_error(r, 401, "Invalid client secret")
    # Never in a path: there is no such route.
    r = api("GET", "/identity/api/session/vs_fake_secret_0")
    assert r.status == 404


def test_secret_stops_working_when_canceled(api, key):
    s = create(api, key, ("type", "id_number"))
    secret = s["client_secret"]
    assert call(api, "/identity/api/session", secret, method="GET").status == 200
    assert api("POST", f"{SESSIONS}/{s['id']}/cancel", key=key).status == 200
    assert_stripe_error(call(api, "/identity/api/session", secret, method="GET"), 401, "Invalid client secret")
    assert_stripe_error(call(api, "/identity/api/consent", secret, [("accepted", "true")]), 401)
    r = api("GET", "/identity/verify", [("client_secret", secret)])
    assert r.status == 404 and b"This link has expired" in r.body


def test_consent_declined(api, key):
    s = create(api, key, ("type", "id_number"))
    secret = s["client_secret"]
    r = call(api, "/identity/api/consent", secret, [("accepted", "false")])
    assert r.status == 200
    assert r.body["last_error"]["code"] == "consent_declined" and r.body["consent"] is False
    got = retrieve(api, key, s["id"])
    assert got["status"] == "requires_input"
    assert got["last_error"]["code"] == "consent_declined"
    assert got["client_secret"] == secret  # the person may start again
    assert events_of(api, key, s["id"])[-1] == "identity.verification_session.requires_input"


def session_events(api, key, vs):
    """The events of session vs, oldest first, as GET /v1/events serves them."""
    r = api("GET", "/v1/events", [("limit", "100")], key=key)
    assert r.status == 200, r.body
    return [e for e in reversed(r.body["data"]) if e["data"]["object"]["id"] == vs]


def events_of(api, key, vs):
    return [e["type"] for e in session_events(api, key, vs)]


# ---- submit and the worker -------------------------------------------------------


def test_passport_verified_by_the_checks(api, key):
    s = passport_ready(api, key)
    secret = s["client_secret"]
    r = call(api, "/identity/api/submit", secret)
    assert r.status == 200 and r.body["status"] == "processing", r.body
    got = wait_status(api, key, s["id"], "verified")
    assert got["client_secret"] is None and got["url"] is None and got["last_error"] is None
    vo = got["verified_outputs"]
    assert (vo["first_name"], vo["last_name"]) == ("Anna", "Eriksson")
    assert vo["dob"] == {"day": 12, "month": 8, "year": 1974}
    report = api("GET", f"/v1/identity/verification_reports/{got['last_verification_report']}", key=key).body
    assert report["type"] == "document" and report["verification_session"] == s["id"]
    assert report["document"]["status"] == "verified" and report["document"]["error"] is None
    assert report["document"]["type"] == "passport" and report["document"]["issuing_country"] == "NL"
    assert len(report["document"]["files"]) == 1
    # The link is spent.
    assert_stripe_error(call(api, "/identity/api/session", secret, method="GET"), 401)
    types = events_of(api, key, s["id"])
    assert types[-2:] == ["identity.verification_session.processing", "identity.verification_session.verified"]


def test_expired_passport_requires_input(api, key):
    data = dict(PASSPORT_DATA, expiration_date=PAST, mrz=specimen_mrz(PAST))
    s = passport_ready(api, key, data)
    assert call(api, "/identity/api/submit", s["client_secret"]).status == 200
    got = wait_status(api, key, s["id"], "requires_input")
    assert got["last_error"]["code"] == "document_expired"
    assert got["last_error"]["reason"]
    assert got["client_secret"] == s["client_secret"]
    report = api("GET", f"/v1/identity/verification_reports/{got['last_verification_report']}", key=key).body
    assert report["document"]["status"] == "unverified"
    assert report["document"]["error"]["code"] == "document_expired"
    # The next attempt starts over: no draft, no files.
    r = call(api, "/identity/api/session", s["client_secret"], method="GET")
    assert r.body["consent"] is False and r.body["uploaded"] == []


def test_bad_check_digit_is_document_unverified_other(api, key):
    mrz = PASSPORT_DATA["mrz"]
    broken = mrz[:-1] + ("0" if mrz[-1] != "0" else "1")
    s = passport_ready(api, key, dict(PASSPORT_DATA, mrz=broken))
    call(api, "/identity/api/submit", s["client_secret"])
    got = wait_status(api, key, s["id"], "requires_input")
    assert got["last_error"]["code"] == "document_unverified_other"


def test_submit_requires_everything(api, key):
    s = create(api, key, ("type", "document"))
    r = call(api, "/identity/api/submit", s["client_secret"])
    assert_stripe_error(r, 400, "The verification is not complete: missing consent, document_type, document_front")


@pytest.mark.parametrize(
    "outcome",
    [
        "verified",
        "document_expired",
        "document_type_not_supported",
        "document_unverified_other",
        "under_supported_age",
        "selfie_document_missing_photo",
        "selfie_face_mismatch",
        "selfie_manipulated",
        "selfie_unverified_other",
        "id_number_insufficient_document_data",
        "id_number_mismatch",
        "id_number_unverified_other",
    ],
)
def test_every_test_outcome(api, key, outcome):
    data = dict(PASSPORT_DATA, id_number="123-45-6789", id_number_country="US")
    s = passport_ready(
        api,
        key,
        data,
        ("options[document][require_matching_selfie]", "true"),
        ("options[document][require_id_number]", "true"),
        selfie=True,
    )
    secret = s["client_secret"]
    r = call(api, "/identity/api/submit", secret, [("outcome", outcome)])
    assert r.status == 200, r.body
    want = "verified" if outcome == "verified" else "requires_input"
    got = wait_status(api, key, s["id"], want)
    report = api("GET", f"/v1/identity/verification_reports/{got['last_verification_report']}", key=key).body
    if outcome == "verified":
        assert got["last_error"] is None
        assert all(report[c]["status"] == "verified" for c in ("document", "selfie", "id_number"))
        return
    assert got["last_error"]["code"] == outcome and got["last_error"]["reason"]
    check = "selfie" if outcome.startswith("selfie_") else "id_number" if outcome.startswith("id_number_") else "document"
    assert report[check]["status"] == "unverified" and report[check]["error"]["code"] == outcome
    for other in {"document", "selfie", "id_number"} - {check}:
        assert report[other]["status"] == "verified", report


def test_outcome_rules(api, key):
    s = id_number_ready(api, key, "000000000")
    secret = s["client_secret"]
    for bad in ("selfie_face_mismatch", "document_expired", "nonsense"):
        r = call(api, "/identity/api/submit", secret, [("outcome", bad)])
        assert r.status == 400 and r.error["param"] == "outcome", r.body
    assert_error(call(api, "/identity/api/submit", secret, [("speed", "1")]), 400, code="parameter_unknown", param="speed")


@pytest.mark.parametrize(
    "number,status,code",
    [
        ("000000000", "verified", None),
        ("111111111", "requires_input", "id_number_mismatch"),
        ("222-22-2222", "requires_input", "id_number_insufficient_document_data"),
        ("333333333", "requires_input", "id_number_unverified_other"),
        ("444444444", "requires_input", "under_supported_age"),
    ],
)
def test_magic_id_numbers(api, key, number, status, code):
    s = id_number_ready(api, key, number)
    assert call(api, "/identity/api/submit", s["client_secret"]).status == 200
    got = wait_status(api, key, s["id"], status)
    assert (got["last_error"] or {}).get("code") == code


@pytest.mark.parametrize(
    "number,status,code",
    [
        ("000000000", "verified", None),
        ("111111111", "requires_input", "document_expired"),
        ("333333333", "requires_input", "document_unverified_other"),
    ],
)
def test_magic_document_numbers(api, key, number, status, code):
    s = create(api, key, ("type", "document"), ("options[document][allowed_types][]", "driving_license"))
    secret = s["client_secret"]
    call(api, "/identity/api/consent", secret, [("accepted", "true")])
    assert upload(api, secret, "document_front", png()).status == 200
    assert upload(api, secret, "document_back", jpeg()).status == 200
    r = call(
        api,
        "/identity/api/data",
        secret,
        [("first_name", "Jenny"), ("last_name", "Rosen"), ("dob", "1980-01-01"), ("document_number", number),
         ("expiration_date", FUTURE), ("issuing_country", "US")],
    )
    assert r.body["missing"] == [], r.body
    assert call(api, "/identity/api/submit", secret).status == 200
    got = wait_status(api, key, s["id"], status)
    assert (got["last_error"] or {}).get("code") == code


def test_real_id_number_checks(api, key):
    ok = id_number_ready(api, key, "123-45-6789")
    call(api, "/identity/api/submit", ok["client_secret"])
    got = wait_status(api, key, ok["id"], "verified")
    assert got["verified_outputs"]["id_number_type"] == "us_ssn"
    young = id_number_ready(api, key, "123-45-6789", dob=f"{time.gmtime().tm_year - 10}-01-01")
    call(api, "/identity/api/submit", young["client_secret"])
    assert wait_status(api, key, young["id"], "requires_input")["last_error"]["code"] == "under_supported_age"


def test_processing_delay(api, key):
    s = id_number_ready(api, key, "000000000")
    t0 = time.monotonic()
    assert call(api, "/identity/api/submit", s["client_secret"], [("outcome", "processing_delay")]).status == 200
    time.sleep(4)
    assert retrieve(api, key, s["id"])["status"] == "processing"
    # While processing the secret still finds the session, which cannot change.
    assert_stripe_error(call(api, "/identity/api/data", s["client_secret"], [("first_name", "X")]), 400,
                        "This verification session is processing")
    page = api("GET", "/identity/verify", [("client_secret", s["client_secret"])])
    assert page.status == 200 and b"We are checking" in page.body and b'http-equiv="refresh"' in page.body
    wait_status(api, key, s["id"], "verified", timeout=20)
    assert time.monotonic() - t0 >= 9


# ---- the page ---------------------------------------------------------------------


def page(api, secret):
    return api("GET", "/identity/verify", [("client_secret", secret)])


def post(api, fields):
    return api("POST", "/identity/verify", list(fields.items()))


def test_page_security_headers_and_escaping(api, key):
    s = create(api, key, ("type", "id_number"), ("return_url", 'https://example.com/done?a=1&b="x"<'))
    r = page(api, s["client_secret"])
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in r.headers["Cache-Control"]
    html = r.body.decode()
    assert "<script" not in html
    assert 'href="https://example.com/done?a=1&amp;b=&quot;x&quot;&lt;"' in html
    # The secret travels as a hidden field, never in a form's action.
    assert f'name="client_secret" value="{s["client_secret"]}"' in html
    assert 'action="verify"' in html
    r = page(api, "junk")
    assert r.status == 404 and b"This link has expired" in r.body


def test_page_id_number_flow_and_refusals(api, key):
    s = create(api, key, ("type", "id_number"))
    secret = s["client_secret"]
    html = page(api, secret).body.decode()
    assert "Before you start" in html
    r = post(api, {"client_secret": secret, "step": "consent", "decision": "accept"})
    assert r.status == 200 and b"Your ID number" in r.body
    fields = {"client_secret": secret, "step": "data", "first_name": "Jenny", "last_name": "Rosen",
              "dob": "1980-02-30", "id_number_country": "US", "id_number": "000000000"}
    r = post(api, fields)
    assert r.status == 400
    html = r.body.decode()
    assert "Invalid dob" in html and 'value="Jenny"' in html  # the step again, with what was typed
    r = post(api, dict(fields, dob="1980-02-03"))
    assert r.status == 200 and b"Check and submit" in r.body and b"Test mode: outcome" in r.body
    r = post(api, {"client_secret": secret, "step": "submit", "outcome": ""})
    assert r.status == 200 and b"We are checking" in r.body
    wait_status(api, key, s["id"], "verified")
    assert page(api, secret).status == 404


def test_page_document_flow_with_multipart(api, key):
    s = create(api, key, ("type", "document"), ("options[document][require_live_capture]", "true"))
    secret = s["client_secret"]
    post(api, {"client_secret": secret, "step": "consent", "decision": "accept"})
    r = post(api, {"client_secret": secret, "step": "document_type", "document_type": "id_card"})
    html = r.body.decode()
    assert "front of your document" in html and 'enctype="multipart/form-data"' in html
    assert 'capture="environment"' in html
    for step, title in (("document_front", b"back of your document"), ("document_back", b"Your details")):
        mctype, body = multipart({"client_secret": secret, "step": step, "live_capture": "true"},
                                 {"file": ("p.png", "image/png", png())})
        r = api("POST", "/identity/verify", headers={"Content-Type": mctype}, body=body)
        assert r.status == 200 and title in r.body, r.body[:400]
    # A bad photo shows the step again with the reason.
    s2 = create(api, key, ("type", "document"))
    post(api, {"client_secret": s2["client_secret"], "step": "consent", "decision": "accept"})
    post(api, {"client_secret": s2["client_secret"], "step": "document_type", "document_type": "passport"})
    mctype, body = multipart({"client_secret": s2["client_secret"], "step": "document_front"},
                             {"file": ("p.gif", "image/gif", b"GIF89a....")})
    r = api("POST", "/identity/verify", headers={"Content-Type": mctype}, body=body)
    assert r.status == 400 and b"front of your document" in r.body and b'class="error"' in r.body


def test_no_log_line_holds_a_client_secret(stack, api, key):
    s = create(api, key, ("type", "id_number"))
    page(api, s["client_secret"])
    call(api, "/identity/api/session", s["client_secret"], method="GET")
    last = call(api, "/identity/api/session", None, [("client_secret", s["client_secret"])], method="GET")
    logs = stack.service_logs(last)
    for path, text in logs.items():
        assert s["client_secret"] not in text, path
        assert not REDACTED_SECRET.search(text), path


def test_redacting_a_session_the_checks_verified(stack, api, key):
    """The whole life of a session: walked on the JSON endpoints, verified by
    the worker (sealed outputs, a report with personal fields, a photo),
    then redacted: every sealed column and the photo are gone, the report is
    redacted, the placeholders are served, and the redacted event exists."""
    s = passport_ready(api, key, None, ("metadata[customer]", "cus_planted"))
    assert call(api, "/identity/api/submit", s["client_secret"]).status == 200
    got = wait_status(api, key, s["id"], "verified")
    rid = got["last_verification_report"]
    assert got["verified_outputs"]["first_name"] == "Anna"
    before = session_events(api, key, s["id"])
    assert [e["data"]["object"]["metadata"] for e in before][:1] == [{"customer": "cus_planted"}], before
    assert stack.psql("SELECT count(*) FROM identity.files WHERE session_id = :'p1'", s["id"]) == [("1",)]

    r = api("POST", f"{SESSIONS}/{s['id']}/redact", key=key)
    assert r.status == 200 and r.body["status"] == "verified", r.body
    assert wait_for(lambda: retrieve(api, key, s["id"])["redaction"] == {"status": "redacted"}, 20)

    got = retrieve(api, key, s["id"], "verified_outputs", "verified_outputs.dob")
    vo = got["verified_outputs"]
    assert vo["first_name"] == "[redacted]" and vo["last_name"] == "[redacted]", vo
    assert vo["dob"] == {"day": 1, "month": 1, "year": 1}, vo
    assert got["metadata"] == {} and got["client_secret"] is None and got["url"] is None
    assert stack.psql("SELECT count(*) FROM identity.files WHERE session_id = :'p1'", s["id"]) == [("0",)]
    left = stack.psql(
        "SELECT num_nonnulls(provided_details_sealed, client_secret_hash, client_secret_sealed,"
        " verified_outputs_sealed, submission_sealed), metadata::text FROM identity.sessions WHERE id = :'p1'",
        s["id"],
    )
    assert left == [("0", "{}")], left
    assert stack.psql(
        "SELECT redacted, personal_sealed IS NULL FROM identity.reports WHERE session_id = :'p1'", s["id"]
    ) == [("t", "t")]
    # Nothing of the person in any plain column of the session's rows.
    rows = stack.psql(
        "SELECT s::text || coalesce((SELECT string_agg(r::text, '') FROM identity.reports r"
        " WHERE r.session_id = s.id), '') FROM identity.sessions s WHERE s.id = :'p1'",
        s["id"],
    )
    for value in ("Anna", "ANNA", "Eriksson", "ERIKSSON", "L898902C3", "1974", "cus_planted"):
        assert value not in rows[0][0], value
    report = api("GET", f"/v1/identity/verification_reports/{rid}", [("expand[]", "document.dob")], key=key).body
    assert report["document"]["first_name"] == "[redacted]", report["document"]
    assert report["document"]["dob"] == {"day": 1, "month": 1, "year": 1}, report["document"]
    # Its events are redacted too: none keeps the metadata, served or stored.
    after = session_events(api, key, s["id"])
    assert after[-1]["type"] == "identity.verification_session.redacted"
    assert [e["id"] for e in after][: len(before)] == [e["id"] for e in before]
    assert all(e["data"]["object"]["metadata"] == {} for e in after), after
    assert stack.psql(
        "SELECT count(*) FROM core.events WHERE data -> 'object' ->> 'id' = :'p1'"
        " AND data::text LIKE '%cus_planted%'",
        s["id"],
    ) == [("0",)]


def outcome_counts(stack, account):
    """Today's identity outcome counts of account's test mode, summed over
    error codes, and requires_input per code (reports.identity_outcomes_daily)."""
    rows = stack.psql(
        "SELECT coalesce(error_code, ''), created, processing, verified, requires_input"
        " FROM reports.identity_outcomes_daily"
        " WHERE day = (now() AT TIME ZONE 'UTC')::date AND account_id = :'p1' AND NOT livemode",
        account,
    )
    totals = [sum(int(r[i]) for r in rows) for i in (1, 2, 3)]
    by_code = {r[0]: int(r[4]) for r in rows}
    return totals, by_code


def test_outcomes_reach_the_audit_report(stack, api, key):
    """A session verified and one failing document_expired, both through the
    real worker, count in the identity outcomes report at once."""
    account = stack.accounts[0]["id"]
    (created, submitted, verified), codes = outcome_counts(stack, account)
    good = passport_ready(api, key)
    assert call(api, "/identity/api/submit", good["client_secret"]).status == 200
    wait_status(api, key, good["id"], "verified")
    bad = passport_ready(api, key, dict(PASSPORT_DATA, expiration_date=PAST, mrz=specimen_mrz(PAST)))
    assert call(api, "/identity/api/submit", bad["client_secret"]).status == 200
    got = wait_status(api, key, bad["id"], "requires_input")
    assert got["last_error"]["code"] == "document_expired"
    (created2, submitted2, verified2), codes2 = outcome_counts(stack, account)
    assert (created2 - created, submitted2 - submitted, verified2 - verified) == (2, 2, 1)
    assert codes2.get("document_expired", 0) - codes.get("document_expired", 0) == 1
