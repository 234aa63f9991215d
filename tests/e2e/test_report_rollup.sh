#!/usr/bin/env bash
# The report roll-ups (sql/core/0012) stay exact: on a scratch cluster of its
# own, every report view (sql/reports) gives the same rows as its aggregate
# over the raw audit rows (core.audit_daily_*) before any roll-up, after one,
# inside a transaction that backdates a row into a rolled-up day, after that
# day is rolled up again, and after a month's partition is dropped
# (retention). The service roles' own inserts do not mark days dirty, and the
# audit chain still verifies.
# Prints "N passed, M failed" last and exits non-zero when anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGCTL=$ROOT/deploy/pgctl.sh

TMP=$(mktemp -d)
chmod 0755 "$TMP"
cleanup() {
    "$PGCTL" stop "$TMP/pg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source=tests/lib/shtest.sh
. "$ROOT/tests/lib/shtest.sh"
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
as_service() { q -U svc_secrets "$@"; }

REPORTS=(secret_access auth_failures identity_outcomes app_installs error_rates)

# The rows of every report that differ from the raw aggregate, both ways.
# Run in a session of its own or appended to a transaction's statements.
DIFF_SQL=$(
    sep=""
    printf 'SELECT sum(n) FROM ('
    for r in "${REPORTS[@]}"; do
        printf '%s SELECT count(*) AS n FROM ((SELECT * FROM reports.%s_daily EXCEPT ALL SELECT * FROM core.audit_daily_%s)' "$sep" "$r" "$r"
        printf ' UNION ALL (SELECT * FROM core.audit_daily_%s EXCEPT ALL SELECT * FROM reports.%s_daily)) d' "$r" "$r"
        sep=" UNION ALL"
    done
    printf ') t'
)
exact() { test "$(q -c "$DIFF_SQL")" = 0; }
rolled_days() { q -c "SELECT count(*) FROM core.audit_rollup_days"; }
advance() { q -c "SELECT core.audit_rollup_advance(100)" -c "SELECT core.audit_rollup_advance(100)" >/dev/null; }
# The roll-up waits until no transaction older than its horizon is open (an
# autovacuum of the rows just written can be one): advance until no closed
# day is dirty, for at most 10 s, as the housekeeping would.
dirty_closed_days() {
    q -c "SELECT count(*) FROM core.audit_rollup_dirty WHERE day < (now() AT TIME ZONE 'UTC')::date"
}
advance_until_clean() {
    local i
    for ((i = 0; i < 100; i++)); do
        advance
        [[ $(dirty_closed_days) == 0 ]] && return 0
        sleep 0.1
    done
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PGCTL" start "$TMP/pg" "$port" >/dev/null
eval "$("$PGCTL" env "$TMP/pg")"
"$ROOT/sql/migrate.sh" >/dev/null

# Rows of every report over the last 5 days and 2 months ago (as the
# services' role, backdated), list reads sharing a request id, and rows
# written now with the default time, as the services write them.
q -c "SELECT core.audit_ensure_partition((date_trunc('month', now()) - interval '2 months')::date)" >/dev/null
rows_sql="INSERT INTO core.audit (at, request_id, service, action, actor, account_id, app_id, livemode,
                                  status, error_code, client_addr, route)
SELECT t0 + g * interval '7 minutes', 'req_' || (g / 3), (ARRAY['svc-secrets', 'svc-identity', 'svc-install'])[1 + g % 3],
       (ARRAY['secret.read', 'secret.set', 'secret.delete', 'auth.failed', 'identity.session.create',
              'identity.session.verified', 'identity.session.requires_input', 'app.install',
              'app.uninstall', 'request.rejected'])[1 + g % 10],
       'key_' || g % 4, 'acct_' || g % 5, 'com.example.app' || g % 2, g % 3 = 0,
       (ARRAY[200, 200, 200, 404, 401, 403, 500])[1 + g % 7],
       (ARRAY[NULL, 'document_expired', NULL, 'resource_missing'])[1 + g % 4],
       '10.0.0.' || g % 3, (ARRAY['POST /v1/apps/secrets', NULL, 'GET /v1/apps/secrets'])[1 + g % 3]
  FROM generate_series(0, 600) g"
# rows T0: the statement above with its rows starting at the SQL time T0.
rows() { printf '%s' "${rows_sql//t0/$1}"; }
as_service -c "$(rows "(now() - interval '5 days')")" >/dev/null
as_service -c "$(rows "(date_trunc('month', now()) - interval '2 months' + interval '3 days')")" >/dev/null
check "backdated rows mark their days dirty" test "$(q -c "SELECT count(*) > 0 FROM core.audit_rollup_dirty")" = t
q -c "DELETE FROM core.audit_rollup_dirty" >/dev/null
as_service -c "INSERT INTO core.audit (request_id, service, action, status, route)
    SELECT 'req_now' || g, 'svc-secrets', 'secret.read', 200, 'GET /v1/apps/secrets/find' FROM generate_series(1, 50) g" >/dev/null
check "rows written now mark nothing dirty" test "$(q -c "SELECT count(*) FROM core.audit_rollup_dirty")" = 0

check "before any roll-up, the reports equal the raw aggregates" exact
for ((i = 0; i < 100; i++)); do # the horizon, as above
    advance
    (($(rolled_days) >= 5)) && break
    sleep 0.1
done
check "the housekeeping rolls up closed days" test "$(rolled_days)" -ge 5
check "today is not rolled up" test "$(q -c "SELECT count(*) FROM core.audit_rollup_days
    WHERE day >= (now() AT TIME ZONE 'UTC')::date")" = 0
check "the reports read the roll-ups" test "$(q -c "SELECT count(*) FROM core.audit_rollup_secret_access")" -gt 0
check "after the roll-up, the reports equal the raw aggregates" exact

# A backdated row in a rolled-up day is in the report in its own transaction.
inside=$(q -c "BEGIN" -c "$(rows "(now() - interval '3 days')")" -c "$DIFF_SQL" \
    -c "SELECT count(*) > 0 FROM core.audit_rollup_dirty" -c "ROLLBACK")
check "a backdating transaction sees its rows in the reports at once" test "$inside" = $'0\nt'
as_service -c "$(rows "(now() - interval '3 days')")" >/dev/null
check "after the backdated rows commit, the reports still equal the raw aggregates" exact
advance_until_clean
check "the dirty days are rolled up again" test "$(dirty_closed_days)" = 0
check "after rolling it up again, the reports still equal the raw aggregates" exact

# Retention drops a whole month: its roll-ups must no longer count.
old=$(q -c "SELECT 'core.audit_' || to_char(now() - interval '2 months', 'YYYYMM')")
q -c "DROP TABLE $old" >/dev/null
check "after a month is dropped, the reports equal the raw aggregates" exact
advance
check "the housekeeping forgets the dropped month's roll-ups" test \
    "$(q -c "SELECT count(*) FROM core.audit_rollup_days WHERE day < now() - interval '1 month'")" = 0

check "the audit chain still extends and verifies" test "$(q -c "SELECT core.audit_chain_extend(100000) > 0" \
    -c "SELECT ok FROM core.audit_verify()" | paste -s -d ' ')" = "t t"

shtest_summary
