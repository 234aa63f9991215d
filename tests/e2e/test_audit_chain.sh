#!/usr/bin/env bash
# The audit log's tamper evidence and retention (sql/core/0008, sql/audit.sh)
# on a scratch cluster of its own, since it breaks the chain on purpose: rows
# written by concurrent service sessions all end up chained; edits, deletes,
# reorders and a truncated tail made as a superuser are each detected; the
# service roles can neither change nor delete audit rows; a past month is
# exported, dropped and verification goes on from its checkpoint.
# Prints "N passed, M failed" last and exits non-zero when anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGCTL=$ROOT/deploy/pgctl.sh
AUDIT=$ROOT/sql/audit.sh

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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PGCTL" start "$TMP/pg" "$port" >/dev/null
eval "$("$PGCTL" env "$TMP/pg")"
"$ROOT/sql/migrate.sh" >/dev/null

# A past month first (retention needs its rows chained before the recent
# ones), then recent rows from four concurrent service sessions, each also
# running the chainer as the services' housekeeping does.
old_month=$(q -c "SELECT to_char(date_trunc('month', now()) - interval '2 months', 'YYYY-MM')")
q -c "SELECT core.audit_ensure_partition((date_trunc('month', now()) - interval '2 months')::date)" >/dev/null
as_service -c "INSERT INTO core.audit (at, service, action, status)
    SELECT date_trunc('month', now()) - interval '2 months' + g * interval '1 hour',
           'svc-secrets', 'secret.read', 200 FROM generate_series(1, 20) g" >/dev/null
for w in 1 2 3 4; do
    as_service -c "INSERT INTO core.audit (at, service, action, status, object_id)
        SELECT now() - interval '1 hour' + g * interval '1 millisecond', 'svc-secrets',
               'secret.set', 200, 'w$w-' || g FROM generate_series(1, 250) g;
        SELECT core.audit_chain_extend(100);" >/dev/null &
done
wait
as_service -c "SELECT core.audit_chain_extend(100000)" >/dev/null
check "every row from concurrent writers is chained once" test \
    "$(q -c "SELECT count(*) = (SELECT count(*) FROM core.audit_chain)
             AND (SELECT count(DISTINCT audit_id) FROM core.audit_chain) = count(*) FROM core.audit")" = t
check "the chain holds" "$AUDIT" verify
check "the chain is dense" test "$(q -c "SELECT max(seq) = count(*) FROM core.audit_chain")" = t

# A late commit: a row behind the chain's position. The look back finds it;
# a round without it (the housekeeping's nine in ten) leaves it for later.
late_at=$(q -c "SELECT max(audit_at) - interval '30 seconds' FROM core.audit_chain")
as_service -c "INSERT INTO core.audit (at, service, action, status, object_id)
    VALUES ('$late_at', 'svc-secrets', 'secret.set', 200, 'late')" >/dev/null
check "a round without the look back skips a late row" test \
    "$(as_service -c "SELECT core.audit_chain_extend(100, false)")" = 0
check "the look back chains it" test "$(as_service -c "SELECT core.audit_chain_extend(100, true)")" = 1
check "the chain holds with the late row" "$AUDIT" verify

# The service roles cannot rewrite history.
refused "a service role cannot UPDATE audit rows" 'permission denied' \
    as_service -c "UPDATE core.audit SET status = 200"
refused "a service role cannot DELETE audit rows" 'permission denied' \
    as_service -c "DELETE FROM core.audit"
refused "a service role cannot touch the chain" 'permission denied' \
    as_service -c "DELETE FROM core.audit_chain"

# Tampering as a superuser, one kind at a time, each undone afterwards.
victim=$(q -c "SELECT audit_id FROM core.audit_chain ORDER BY seq OFFSET 500 LIMIT 1")
q -c "UPDATE core.audit SET status = 500 WHERE id = $victim" >/dev/null
refused "an edited row is found" "audit row $victim .*modified" "$AUDIT" verify
q -c "UPDATE core.audit SET status = 200 WHERE id = $victim" >/dev/null
check "... and the chain holds again once it is undone" "$AUDIT" verify

q -c "CREATE TABLE saved AS SELECT * FROM core.audit WHERE id = $victim;
      DELETE FROM core.audit WHERE id = $victim" >/dev/null
refused "a deleted row is found" "audit row $victim is missing" "$AUDIT" verify
q -c "INSERT INTO core.audit SELECT * FROM saved; DROP TABLE saved" >/dev/null

read -r s1 s2 < <(q -F ' ' -c "SELECT min(seq), min(seq) + 1 FROM core.audit_chain WHERE seq > 300")
q -c "UPDATE core.audit_chain SET seq = -seq WHERE seq IN ($s1, $s2);
      UPDATE core.audit_chain SET seq = CASE seq WHEN -$s1 THEN $s2 ELSE $s1 END WHERE seq IN (-$s1, -$s2)" >/dev/null
refused "reordered rows are found" "chain entry $s1 .*|audit row .* modified or moved" "$AUDIT" verify
q -c "UPDATE core.audit_chain SET seq = -seq WHERE seq IN ($s1, $s2);
      UPDATE core.audit_chain SET seq = CASE seq WHEN -$s1 THEN $s2 ELSE $s1 END WHERE seq IN (-$s1, -$s2)" >/dev/null
check "... and the chain holds again once they are put back" "$AUDIT" verify

q -c "CREATE TABLE saved AS SELECT * FROM core.audit_chain WHERE seq = 700;
      DELETE FROM core.audit_chain WHERE seq = 700" >/dev/null
refused "a deleted chain entry is found" "chain entry 700 is missing" "$AUDIT" verify
q -c "INSERT INTO core.audit_chain SELECT * FROM saved; DROP TABLE saved" >/dev/null

q -c "INSERT INTO core.audit (at, service, action, status) VALUES (now() - interval '1 day', 'x', 'forged', 200)" >/dev/null
refused "a row slipped in behind the chain is found" "not in the chain" "$AUDIT" verify
q -c "DELETE FROM core.audit WHERE action = 'forged'" >/dev/null
check "the chain holds after the tampering is undone" "$AUDIT" verify

# A truncated tail is consistent: only an outside checkpoint reveals it.
"$AUDIT" checkpoint >"$TMP/checkpoints"
check "a checkpoint line is seq, hash and time" grep -Eq '^[0-9]+ [0-9a-f]{64} [0-9T:Z-]+$' "$TMP/checkpoints"
check "the chain holds against its checkpoint" "$AUDIT" verify --checkpoint "$TMP/checkpoints"
q -c "WITH tail AS (DELETE FROM core.audit_chain WHERE seq > (SELECT max(seq) - 3 FROM core.audit_chain)
                   RETURNING audit_id)
      DELETE FROM core.audit WHERE id IN (SELECT audit_id FROM tail)" >/dev/null
check "a truncated tail still looks consistent on its own" "$AUDIT" verify
refused "... but not against the checkpoint kept outside" "tail was truncated" \
    "$AUDIT" verify --checkpoint "$TMP/checkpoints"
"$AUDIT" checkpoint >"$TMP/checkpoints"

# Retention.
refused "the current month cannot be retired" "not over yet" \
    "$AUDIT" export "$(q -c "SELECT to_char(now(), 'YYYY-MM')")" "$TMP"
check "a past month is exported and dropped" "$AUDIT" export "$old_month" "$TMP"
tag=${old_month/-/}
check "its rows are in the export" test "$(gzip -dc "$TMP/audit-$tag.csv.gz" | tail -n +2 | wc -l)" = 20
check "its chain entries and checkpoint are exported" test -s "$TMP/audit-$tag.checkpoint"
check "its partition is gone" test "$(q -c "SELECT to_regclass('core.audit_$tag') IS NULL")" = t
check "the chain holds from the retention checkpoint on" "$AUDIT" verify --checkpoint "$TMP/checkpoints"
as_service -c "INSERT INTO core.audit (at, service, action, status)
               VALUES (now() - interval '10 seconds', 'svc-secrets', 'secret.read', 200);
               SELECT core.audit_chain_extend(10)" >/dev/null
check "new rows chain on after retention" "$AUDIT" verify

shtest_summary
