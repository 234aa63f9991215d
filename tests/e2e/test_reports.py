"""The audit report views (sql/reports/*.sql) and their renderer
(sql/reports/report.py) against the running stack.

Activity made through the API must show up in the views as exact count
increments for today (UTC): other tests of the session write audit rows for
the same app and account, so each check compares the view before and after.
Every view's exact arithmetic (identity outcomes and installs included; the
services' own rows for those are checked where they are made, e.g.
tests/e2e/test_identity_page.py) and the per-request
counting of error_rates_daily are checked on synthetic audit rows inserted in
a transaction that is rolled back, so nothing fake ever reaches the audit
log or its hash chain."""

import csv
import datetime
import importlib.util
import re
import secrets
import string
import subprocess
import sys

import pytest
from stackapi import REPO, PsqlError

REPORT = REPO / "sql" / "reports" / "report.py"
ALNUM = string.ascii_letters + string.digits
SECRETS_ROUTE = "/v1/apps/secrets"
# The columns of each view, in order: the contract BI tools and the CSVs see.
COLUMNS = {
    "secret_access_daily": "day app_id account_id livemode actor reads sets deletes rejected first_at last_at",
    "auth_failures_daily": "day key_prefix client_addr failures unauthenticated forbidden first_at last_at",
    "identity_outcomes_daily": (
        "day account_id livemode error_code created processing verified requires_input canceled redacted rejected"
    ),
    "app_installs_daily": "day app_id account_id livemode installs uninstalls rejected first_at last_at",
    "error_rates_daily": "day service route requests errors server_errors error_rate server_error_rate",
}


def rand(n=12):
    return "".join(secrets.choice(ALNUM) for _ in range(n))


@pytest.fixture(scope="module")
def today(psql):
    """The database's current UTC day; sums below run from it onwards, so a
    test that crosses midnight still counts everything it did."""
    return psql("SELECT (now() AT TIME ZONE 'UTC')::date;")[0][0]


@pytest.fixture(scope="module")
def app(stack):
    """(app key, app id, an installing account): the fixture's first app,
    which holds secret_write (notes/CONTRACTS.md)."""
    first = stack.apps[0]
    return first["secret_key"], first["id"], first["installed_on"][0]


def secret_counts(psql, today, app_id, account):
    rows = psql(
        """SELECT coalesce(sum(reads), 0), coalesce(sum(sets), 0), coalesce(sum(deletes), 0),
                  coalesce(sum(rejected), 0)
             FROM reports.secret_access_daily
            WHERE day >= :'p1'::date AND app_id = :'p2' AND account_id = :'p3' AND livemode = false;""",
        today,
        app_id,
        account,
    )
    return tuple(int(v) for v in rows[0])


def error_counts(psql, today, service, route):
    """(requests, errors, server_errors) of a route (None: the NULL route)."""
    rows = psql(
        """SELECT coalesce(sum(requests), 0), coalesce(sum(errors), 0), coalesce(sum(server_errors), 0)
             FROM reports.error_rates_daily
            WHERE day >= :'p1'::date AND service = :'p2' AND route IS NOT DISTINCT FROM nullif(:'p3', '');""",
        today,
        service,
        route or "",
    )
    return tuple(int(v) for v in rows[0])


def test_views_have_the_documented_columns(psql):
    rows = psql(
        """SELECT table_name, string_agg(column_name, ' ' ORDER BY ordinal_position)
             FROM information_schema.columns WHERE table_schema = 'reports' GROUP BY 1 ORDER BY 1;"""
    )
    assert dict(rows) == COLUMNS
    described = psql(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'reports' AND c.relkind = 'v' AND obj_description(c.oid, 'pg_class') ~ 'WHERE day >='
            ORDER BY 1;"""
    )
    assert [r[0] for r in described] == sorted(COLUMNS)


def test_secret_access_counts_what_the_api_did(api, psql, today, app):
    key, app_id, account = app
    name = "report_" + rand()
    scope = [("scope[type]", "account")]
    hdr = {"Stripe-Account": account}
    before = secret_counts(psql, today, app_id, account)
    errors_before = error_counts(psql, today, "svc-secrets", "POST /v1/apps/secrets")

    assert api("POST", SECRETS_ROUTE, [("name", name), ("payload", "p-" + rand()), *scope], basic=key, headers=hdr).status == 200
    assert api("GET", SECRETS_ROUTE + "/find", [("name", name), *scope, ("expand[]", "payload")], basic=key, headers=hdr).status == 200
    assert api("GET", SECRETS_ROUTE + "/find", [("name", name), *scope, ("expand[]", "payload")], basic=key, headers=hdr).status == 200
    # A find without the payload reads no secret: not audited.
    assert api("GET", SECRETS_ROUTE + "/find", [("name", name), *scope], basic=key, headers=hdr).status == 200
    assert api("POST", SECRETS_ROUTE + "/delete", [("name", name), *scope], basic=key, headers=hdr).status == 200
    # Refused: reading the deleted secret, and a set without a payload.
    assert api("GET", SECRETS_ROUTE + "/find", [("name", name), *scope, ("expand[]", "payload")], basic=key, headers=hdr).status == 404
    assert api("POST", SECRETS_ROUTE, [("name", name), *scope], basic=key, headers=hdr).status == 400

    after = secret_counts(psql, today, app_id, account)
    assert tuple(a - b for a, b in zip(after, before)) == (2, 1, 1, 2), (before, after)
    # Two sets, one refused: two requests, one error, no server error.
    errors_after = error_counts(psql, today, "svc-secrets", "POST /v1/apps/secrets")
    assert tuple(a - b for a, b in zip(errors_after, errors_before)) == (2, 1, 0)

    actors = psql(
        """SELECT DISTINCT actor FROM reports.secret_access_daily
            WHERE day >= :'p1'::date AND app_id = :'p2' AND account_id = :'p3';""",
        today,
        app_id,
        account,
    )
    assert actors and all(re.fullmatch(r"key_[A-Za-z0-9]+", a) for (a,) in actors), actors


def test_auth_failures_per_key_prefix_and_address(api, psql, today):
    bad = "sk_test_" + rand(36)
    routes_before = error_counts(psql, today, "svc-secrets", "GET /v1/apps/secrets")
    for _ in range(3):
        assert api("GET", SECRETS_ROUTE, basic=bad).status == 401
    rows = psql(
        """SELECT client_addr, failures, unauthenticated, forbidden, first_at <= last_at
             FROM reports.auth_failures_daily WHERE day >= :'p1'::date AND key_prefix = :'p2';""",
        today,
        bad[:12],
    )
    assert rows == [("127.0.0.1", "3", "3", "0", "t")]
    leaked = psql("SELECT count(*) FROM reports.auth_failures_daily WHERE key_prefix = :'p1';", bad)
    assert leaked == [("0",)], "the whole key reached the audit log"
    routes_after = error_counts(psql, today, "svc-secrets", "GET /v1/apps/secrets")
    assert tuple(a - b for a, b in zip(routes_after, routes_before)) == (3, 3, 0)


def test_unknown_urls_count_under_the_null_route(api, psql, today, app):
    key = app[0]
    before = error_counts(psql, today, "svc-install", None)
    assert api("GET", "/v1/reports_" + rand(), basic=key).status == 404
    after = error_counts(psql, today, "svc-install", None)
    assert tuple(a - b for a, b in zip(after, before)) == (1, 1, 0)


# Synthetic rows for the views nothing feeds yet, inserted and read in one
# transaction that is rolled back. The account is unique to the run.
SYNTHETIC = """
BEGIN;
INSERT INTO core.audit (request_id, service, action, actor, account_id, app_id, livemode, status, error_code,
                        client_addr, route)
VALUES
  ('req_s1', 'svc-identity', 'identity.session.create', 'key_x', :'p1', NULL, false, 200, NULL, '10.0.0.1',
   'POST /v1/identity/verification_sessions'),
  ('req_s2', 'svc-identity', 'identity.session.create', 'key_x', :'p1', NULL, false, 200, NULL, '10.0.0.1',
   'POST /v1/identity/verification_sessions'),
  ('req_s3', 'svc-identity', 'identity.page.submit', 'usr_x', :'p1', NULL, false, 200, NULL, '10.0.0.1', NULL),
  ('req_s4', 'svc-identity', 'identity.session.verified', 'usr_x', :'p1', NULL, false, 200, NULL, '10.0.0.1', NULL),
  ('req_s5', 'svc-identity', 'identity.session.requires_input', 'usr_x', :'p1', NULL, false, 200,
   'document_expired', '10.0.0.1', NULL),
  ('req_s6', 'svc-identity', 'identity.session.requires_input', 'usr_x', :'p1', NULL, false, 200,
   'document_expired', '10.0.0.1', NULL),
  ('req_s7', 'svc-identity', 'identity.session.cancel', 'key_x', :'p1', NULL, true, 200, NULL, '10.0.0.1', NULL),
  ('req_s8', 'svc-identity', 'identity.session.redacted', 'key_x', :'p1', NULL, false, 200, NULL, '10.0.0.1', NULL),
  ('req_s9', 'svc-identity', 'identity.session.create', 'key_x', :'p1', NULL, false, 400, 'parameter_missing',
   '10.0.0.1', 'POST /v1/identity/verification_sessions'),
  ('req_i1', 'svc-install', 'app.install', 'usr_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', NULL),
  ('req_i2', 'svc-install', 'app.uninstall', 'usr_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', NULL),
  ('req_i3', 'svc-install', 'app.install', 'usr_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', NULL),
  ('req_i4', 'svc-install', 'app.install', 'usr_x', :'p1', 'com.example.report', false, 500, 'api_error',
   '10.0.0.1', NULL),
  -- One list request that read three payloads, then a failed one and one
  -- row without a request id: three requests on a route of its own.
  ('req_l1', 'svc-secrets', 'secret.read', 'key_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', :'p2'),
  ('req_l1', 'svc-secrets', 'secret.read', 'key_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', :'p2'),
  ('req_l1', 'svc-secrets', 'secret.read', 'key_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', :'p2'),
  ('req_l2', 'svc-secrets', 'secret.read', 'key_x', :'p1', 'com.example.report', false, 503, NULL, '10.0.0.1', :'p2'),
  (NULL, 'svc-secrets', 'secret.read', 'key_x', :'p1', 'com.example.report', false, 200, NULL, '10.0.0.1', :'p2');
{query}
ROLLBACK;
"""


def synthetic(psql, query):
    account = "acct_report" + rand(8)
    route = "GET /v1/apps/secrets/report_" + rand(8)
    return psql(SYNTHETIC.replace("{query}", query), account, route), account


def test_identity_outcomes_per_day_and_error_code(psql):
    rows, _ = synthetic(
        psql,
        """SELECT livemode, error_code, created, processing, verified, requires_input, canceled, redacted, rejected
             FROM reports.identity_outcomes_daily
            WHERE day = (now() AT TIME ZONE 'UTC')::date AND account_id = :'p1'
            ORDER BY livemode, error_code NULLS FIRST;""",
    )
    assert rows == [
        ("f", "", "2", "1", "1", "0", "0", "1", "0"),
        ("f", "document_expired", "0", "0", "0", "2", "0", "0", "0"),
        ("f", "parameter_missing", "0", "0", "0", "0", "0", "0", "1"),
        ("t", "", "0", "0", "0", "0", "1", "0", "0"),
    ]


def test_installs_and_uninstalls_per_app_and_account(psql):
    rows, _ = synthetic(
        psql,
        """SELECT app_id, livemode, installs, uninstalls, rejected
             FROM reports.app_installs_daily
            WHERE day = (now() AT TIME ZONE 'UTC')::date AND account_id = :'p1';""",
    )
    assert rows == [("com.example.report", "f", "2", "1", "1")]


def test_error_rates_count_requests_not_rows(psql):
    rows, _ = synthetic(
        psql,
        """SELECT service, requests, errors, server_errors, error_rate, server_error_rate
             FROM reports.error_rates_daily
            WHERE day = (now() AT TIME ZONE 'UTC')::date AND route = :'p2';""",
    )
    assert rows == [("svc-secrets", "3", "1", "1", "0.3333", "0.3333")]


def test_time_range_filters_on_day(psql):
    rows, _ = synthetic(
        psql,
        """SELECT count(*) FROM reports.app_installs_daily
            WHERE account_id = :'p1' AND day >= (now() AT TIME ZONE 'UTC')::date + 1;""",
    )
    assert rows == [("0",)]


def test_audit_reader_reads_reports_only(psql):
    rows = psql(
        """SELECT r.rolcanlogin FROM pg_roles r WHERE r.rolname = 'audit_reader';
           SET ROLE audit_reader;
           SELECT count(*) >= 0 FROM reports.secret_access_daily;
           SELECT count(*) >= 0 FROM reports.auth_failures_daily;
           SELECT count(*) >= 0 FROM reports.identity_outcomes_daily;
           SELECT count(*) >= 0 FROM reports.app_installs_daily;
           SELECT count(*) >= 0 FROM reports.error_rates_daily;"""
    )
    assert rows == [("f",)] + [("t",)] * 5
    with pytest.raises(PsqlError, match="permission denied for schema core"):
        psql("SET ROLE audit_reader; SELECT count(*) FROM core.audit;")
    with pytest.raises(PsqlError, match="permission denied"):
        psql("SET ROLE audit_reader; CREATE VIEW reports.mine AS SELECT 1;")


def run_report(stack, *args):
    return subprocess.run(
        [sys.executable, str(REPORT), *args],
        env=stack.pg_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def test_report_writes_csv_and_one_self_contained_page(stack, api, psql, today, app, tmp_path):
    key, app_id, account = app
    name = "report_" + rand()
    scope = [("scope[type]", "account")]
    resp = api("POST", SECRETS_ROUTE, [("name", name), ("payload", "p-" + rand()), *scope], basic=key,
               headers={"Stripe-Account": account})
    assert resp.status == 200
    out = tmp_path / "report"
    done = run_report(stack, "--from", today, "--to", today, "--out", str(out))
    assert done.returncode == 0, done.stderr

    assert sorted(p.name for p in out.iterdir()) == sorted([f"{v}.csv" for v in COLUMNS] + ["report.html"])
    for view, columns in COLUMNS.items():
        with open(out / f"{view}.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert rows[0] == columns.split(), view
        assert all(row[0] == today for row in rows[1:]), view
    with open(out / "secret_access_daily.csv", newline="", encoding="utf-8") as f:
        mine = [r for r in csv.DictReader(f) if r["app_id"] == app_id and r["account_id"] == account]
    assert mine and sum(int(r["sets"]) for r in mine) >= 1

    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"<title>Audit report {today} to {today}</title>" in page
    assert page.count("<svg") == len(COLUMNS)
    assert "<script" not in page.lower()
    # No external asset: nothing loaded from a URL (src, href, url(), @import).
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"url\(|@import", page, re.I)


def test_report_range_is_checked(stack, tmp_path):
    done = run_report(stack, "--from", "2024-05-02", "--to", "2024-05-01", "--out", str(tmp_path))
    assert done.returncode == 2 and "after" in done.stderr
    done = run_report(stack, "--from", "2024-05-01'; SELECT 1; --", "--out", str(tmp_path))
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_of_an_empty_range(stack, tmp_path):
    done = run_report(stack, "--from", "2000-01-01", "--to", "2000-01-03", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for view, columns in COLUMNS.items():
        assert (tmp_path / f"{view}.csv").read_text(encoding="utf-8").splitlines() == [columns.replace(" ", ",")]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("No rows in this range.") == len(COLUMNS)
    assert page.count("<svg") == len(COLUMNS)


def test_report_page_escapes_what_it_prints():
    spec = importlib.util.spec_from_file_location("report", REPORT)
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    day = datetime.date(2024, 5, 1)
    hostile = '<script>alert("x")</script>&'
    results = []
    for view in report.VIEWS:
        header = COLUMNS[view.name].split()
        row = ["1"] * len(header)
        row[0], row[1] = day.isoformat(), hostile
        results.append((view, header, [row]))
    page = report.render(day, day, results)
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;") == len(COLUMNS)
