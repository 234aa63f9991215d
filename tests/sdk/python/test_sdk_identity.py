"""Identity through stripe-python (Debian's python3-stripe 5.0.0, legacy
globals): stripe.identity.VerificationSession create, retrieve with
expansion, list with filters and auto-paging, modify, cancel, redact, and
stripe.identity.VerificationReport list and retrieve, with errors as the
SDK's own exception classes."""

import json
import re
import secrets
import string
import time

import pytest
import stripe
from stackapi import REQUEST_ID

from test_sdk_foundation import configured, stack  # noqa: F401 (fixtures)

ALNUM = string.ascii_letters + string.digits
SECRET = re.compile(r"^(vs_[A-Za-z0-9]{24})_secret_test_[A-Za-z0-9]{32}$")
VS = stripe.identity.VerificationSession
VR = stripe.identity.VerificationReport


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


@pytest.fixture
def key(stack):
    return {"api_key": stack.accounts[0]["secret_key"]}


def verify(stack, session):
    """Leaves a session verified with a report, as the checks worker would
    (plain fields stand in for the sealed personal part)."""
    rid = "vr_" + rand(24)
    doc = {"status": "verified", "error": None, "type": "id_card", "issuing_country": "DE",
           "first_name": "Jenny", "last_name": "Rosen", "number": "L01X00T47"}
    stack.psql(
        "INSERT INTO identity.reports (id, session_id, account_id, livemode, type,"
        " client_reference_id, document) SELECT :'p1', id, account_id, livemode, type,"
        " client_reference_id, :'p2'::jsonb FROM identity.sessions WHERE id = :'p3';"
        " UPDATE identity.sessions SET status = 'verified', last_report_id = :'p1',"
        " client_secret_hash = NULL, client_secret_sealed = NULL WHERE id = :'p3'",
        rid, json.dumps(doc), session.id,
    )
    return rid


@pytest.mark.smoke
def test_create_retrieve_modify(key):
    s = VS.create(type="document", metadata={"user_id": "42"},
                  options={"document": {"allowed_types": ["passport"], "require_id_number": True}},
                  provided_details={"email": "jenny@example.com"}, **key)
    assert isinstance(s, VS) and s.object == "identity.verification_session"
    assert s.status == "requires_input" and SECRET.match(s.client_secret).group(1) == s.id
    assert s.options.document.allowed_types == ["passport"]
    assert s.options.document.require_id_number is True
    assert REQUEST_ID.match(s.last_response.request_id)

    got = VS.retrieve(s.id, expand=["provided_details"], **key)
    assert got.provided_details.email == "jenny@example.com"
    assert got.client_secret == s.client_secret

    m = VS.modify(s.id, metadata={"user_id": "", "step": "2"}, type="id_number", **key)
    assert m.type == "id_number" and m.metadata.to_dict() == {"step": "2"}


def test_list_filters_and_paging(key):
    ref = "ref_" + rand()
    ids = [VS.create(type="id_number", client_reference_id=ref, **key).id for _ in range(4)][::-1]
    page = VS.list(client_reference_id=ref, limit=3, **key)
    assert [s.id for s in page.data] == ids[:3] and page.has_more is True
    assert [s.id for s in page.auto_paging_iter()] == ids
    VS.cancel(ids[0], **key)
    assert [s.id for s in VS.list(client_reference_id=ref, status="canceled", **key).data] == [ids[0]]
    assert VS.list(client_reference_id=ref, created={"lt": 1000}, **key).data == []


def test_cancel_and_wrong_state(key):
    s = VS.create(type="document", **key)
    c = VS.cancel(s.id, **key)
    assert c.status == "canceled" and c.client_secret is None and c.url is None
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        VS.cancel(s.id, **key)
    assert e.value.http_status == 400 and e.value.error.param is None
    with pytest.raises(stripe.error.InvalidRequestError):
        VS.modify(s.id, metadata={"a": "b"}, **key)


def test_errors(key):
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        VS.create(**key)
    assert e.value.error.code == "parameter_missing" and e.value.error.param == "type"
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        VS.create(type="document", return_url="not a url", **key)
    assert e.value.error.param == "return_url"
    with pytest.raises(stripe.error.InvalidRequestError) as e:
        VS.retrieve("vs_" + rand(24), **key)
    assert e.value.http_status == 404 and e.value.error.code == "resource_missing"


def test_reports(stack, key):
    ref = "ref_" + rand()
    s = VS.create(type="document", client_reference_id=ref, **key)
    rid = verify(stack, s)
    reports = VR.list(client_reference_id=ref, **key)
    assert [r.id for r in reports.data] == [rid]
    r = VR.retrieve(rid, expand=["document.number"], **key)
    assert isinstance(r, VR) and r.verification_session == s.id
    assert r.document.first_name == "Jenny" and r.document.number == "L01X00T47"
    assert "number" not in VR.retrieve(rid, **key).document
    got = VS.retrieve(s.id, expand=["last_verification_report"], **key)
    assert got.status == "verified" and got.last_verification_report.id == rid


def test_redact(stack, key):
    s = VS.create(type="document", metadata={"name": "Jenny Rosen"}, **key)
    rid = verify(stack, s)
    r = VS.redact(s.id, **key)
    assert r.status == "verified" and r.metadata.to_dict() == {}
    deadline = time.monotonic() + 15
    while r.redaction.status != "redacted" and time.monotonic() < deadline:
        time.sleep(0.2)
        r = VS.retrieve(s.id, **key)
    assert r.redaction.status == "redacted"
    assert VR.retrieve(rid, **key).document.first_name == "[redacted]"
    with pytest.raises(stripe.error.InvalidRequestError):
        VS.modify(s.id, metadata={"a": "b"}, **key)
