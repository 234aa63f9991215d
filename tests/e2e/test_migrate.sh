#!/usr/bin/env bash
# End-to-end test of sql/migrate.sh and the service roles' privileges, on a
# scratch cluster of its own (deploy/pgctl.sh) in a temporary directory,
# stopped and removed on exit. Prints "N passed, M failed" last and exits
# non-zero when anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGCTL=$ROOT/deploy/pgctl.sh
MIGRATE=$ROOT/sql/migrate.sh

TMP=$(mktemp -d)
chmod 0755 "$TMP" # the cluster may belong to the postgres user (when run as root)
cleanup() {
    "$PGCTL" stop "$TMP/pg" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# shellcheck source=tests/lib/shtest.sh
. "$ROOT/tests/lib/shtest.sh"

# Runs CMD...; fails when it fails or prints anything.
silent() {
    local out
    out=$("$@" 2>&1) || {
        printf '%s\n' "$out"
        return 1
    }
    [[ -z $out ]] || {
        printf 'unexpected output: %s\n' "$out"
        return 1
    }
}

# Runs SQL as a given role; fails when the statement fails.
sql_as() {
    local role=$1
    shift
    psql -X -q -v ON_ERROR_STOP=1 -U "$role" -At -c "$*"
}

# A copy of sql/ that a test may change.
sql_copy() {
    local copy
    copy=$(mktemp -d "$TMP/sql.XXXXXX")
    cp -R "$ROOT/sql/." "$copy/"
    printf '%s\n' "$copy"
}

# Only the socket file's name depends on the port (the socket lives in the
# cluster's own directory), so any port is free; vary it anyway.
port=$((20000 + RANDOM % 20000))
"$PGCTL" start "$TMP/pg" "$port" >/dev/null
eval "$("$PGCTL" env "$TMP/pg")"
SUPERUSER=$PGUSER

# --- Applying -------------------------------------------------------------
nfiles=$(find "$ROOT/sql/core" "$ROOT/sql/install" "$ROOT/sql/secrets" "$ROOT/sql/identity" \
    -name '[0-9][0-9][0-9][0-9]_*.sql' | wc -l)
out=$("$MIGRATE" --dry-run 2>&1) || true
if [[ $(grep -c '^pending ' <<<"$out") == "$nfiles" ]]; then
    ok "dry run lists all $nfiles files"
else
    not_ok "dry run lists all $nfiles files" "$out"
fi
check "dry run changes nothing" test \
    "$(psql -X -Atc "SELECT to_regclass('migrations.applied') IS NULL")" = t

out=$("$MIGRATE" 2>&1) || true
if [[ $(grep -c '^applied ' <<<"$out") == "$nfiles" ]] &&
    [[ $(head -n 1 <<<"$out") == "applied core/0001_core.sql" ]]; then
    ok "first run applies every file, core first"
else
    not_ok "first run applies every file, core first" "$out"
fi
check "second run is a silent no-op" silent "$MIGRATE"
check "nothing pending after" silent "$MIGRATE" --dry-run
check "applied files are recorded with their sha256" test \
    "$(psql -X -Atc "SELECT sha256 FROM migrations.applied WHERE schema = 'core' AND version = 1")" \
    = "$(sha256sum <"$ROOT/sql/core/0001_core.sql" | cut -d ' ' -f 1)"

# --- Refusals -------------------------------------------------------------
copy=$(sql_copy)
core_files=("$copy"/core/[0-9][0-9][0-9][0-9]_*.sql)
printf 'SELECT 1;\n' >"$copy/core/$(printf '%04d' $((${#core_files[@]} + 2)))_gap.sql"
refused "a gap in versions is refused" 'version [0-9]{4} is missing' "$MIGRATE" --dir "$copy"

copy=$(sql_copy)
printf '\n-- edited\n' >>"$copy/core/0002_admin.sql"
refused "an applied file that changed is refused" 'differs' "$MIGRATE" --dir "$copy"
refused "... also by a dry run" 'differs' "$MIGRATE" --dry-run --dir "$copy"

copy=$(sql_copy)
# The newest one, so that no gap comes first.
identity_files=("$copy"/identity/[0-9][0-9][0-9][0-9]_*.sql)
rm "${identity_files[-1]}"
refused "an applied file that is gone is refused" 'no longer' "$MIGRATE" --dir "$copy"

copy=$(sql_copy)
cp "$copy/secrets/0001_schema.sql" "$copy/secrets/0001_again.sql"
refused "a duplicate version is refused" 'twice' "$MIGRATE" --dir "$copy"

copy=$(sql_copy)
printf 'SELECT 1;\n' >"$copy/install/2_badname.sql"
refused "a badly named file is refused" 'NNNN_<name>.sql' "$MIGRATE" --dir "$copy"

# --- New migrations, failures and concurrency, on a database of their own ---
createdb -U "$SUPERUSER" second
copy=$(sql_copy)
# The broken migration comes right after the last real one of its schema.
secrets_files=("$copy"/secrets/[0-9][0-9][0-9][0-9]_*.sql)
next=$(printf '%04d' $((${#secrets_files[@]} + 1)))
broken="$copy/secrets/${next}_broken.sql"
printf 'CREATE TABLE secrets.probe (id int);\nSELECT 1/0;\n' >"$broken"
refused "a failing migration stops the run" "secrets/${next}_broken.sql failed" \
    env PGDATABASE=second "$MIGRATE" --dir "$copy"
check "... and leaves nothing of itself" test \
    "$(PGDATABASE=second psql -X -Atc "SELECT to_regclass('secrets.probe') IS NULL AND
        NOT EXISTS (SELECT 1 FROM migrations.applied WHERE schema = 'secrets' AND version = $((10#$next)))")" = t
check "... nor applies anything after it" test \
    "$(PGDATABASE=second psql -X -Atc "SELECT count(*) FROM migrations.applied WHERE schema = 'identity'")" = 0
printf 'CREATE TABLE secrets.probe (id serial PRIMARY KEY);\n' >"$broken"
out=$(PGDATABASE=second "$MIGRATE" --dir "$copy" 2>&1) || true
expected="applied secrets/${next}_broken.sql"
for f in "$copy"/identity/[0-9][0-9][0-9][0-9]_*.sql; do
    expected+=$'\n'"applied identity/${f##*/}"
done
if [[ $out == "$expected" ]]; then
    ok "once fixed, the run resumes where it stopped"
else
    not_ok "once fixed, the run resumes where it stopped" "$out"
fi
check "new tables get their grants" env PGDATABASE=second \
    psql -X -q -v ON_ERROR_STOP=1 -U svc_secrets -c "INSERT INTO secrets.probe DEFAULT VALUES"

createdb -U "$SUPERUSER" third
PGDATABASE=third "$MIGRATE" >"$TMP/run1" 2>&1 &
pid1=$!
PGDATABASE=third "$MIGRATE" >"$TMP/run2" 2>&1 &
pid2=$!
rc=0
wait "$pid1" || rc=1
wait "$pid2" || rc=1
if ((rc == 0)) && [[ $(cat "$TMP/run1" "$TMP/run2" | grep -c '^applied ') == "$nfiles" ]]; then
    ok "two concurrent runs apply each file once"
else
    not_ok "two concurrent runs apply each file once" "$(cat "$TMP/run1" "$TMP/run2")"
fi

# --- Privileges -----------------------------------------------------------
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U "$SUPERUSER" <<'EOF'
SELECT core.create_account('acct_owner', 'Owner');
SELECT core.create_account('acct_user', 'User');
INSERT INTO install.apps (id, owner_account, name, signing_secret)
    VALUES ('com.example.app', 'acct_owner', 'Example', 'absec_test');
INSERT INTO install.app_versions (app_id, version, manifest, permissions, allowed_redirect_uris, published)
    VALUES ('com.example.app', '1.0.0', '{}', '{secret_write}', '{https://example.com/cb}', false),
           ('com.example.app', '1.0.1', '{}', '{secret_write,event_read}', '{https://example.com/cb}', true);
INSERT INTO install.installations (id, app_id, account_id, livemode)
    VALUES ('inst_1', 'com.example.app', 'acct_user', false);
INSERT INTO core.events (id, type, livemode, data) VALUES ('evt_1', 'test', false, '{}');
EOF

refused "svc_secrets cannot INSERT into install.apps" 'permission denied' sql_as svc_secrets \
    "INSERT INTO install.apps VALUES ('com.x', 'acct_owner', 'x', 'absec_x', now())"
refused "svc_secrets cannot UPDATE core.audit" 'permission denied' sql_as svc_secrets \
    "UPDATE core.audit SET status = 0"
refused "svc_secrets cannot DELETE from core.audit" 'permission denied' sql_as svc_secrets \
    "DELETE FROM core.audit"
check "svc_secrets can INSERT into core.audit" sql_as svc_secrets \
    "INSERT INTO core.audit (service, action, status) VALUES ('secrets', 'test', 200)"
refused "svc_install cannot UPDATE core.audit" 'permission denied' sql_as svc_install \
    "UPDATE core.audit SET status = 0"
refused "svc_identity cannot read install.apps" 'permission denied' sql_as svc_identity \
    "SELECT signing_secret FROM install.apps"
refused "svc_install cannot write secrets" 'permission denied' sql_as svc_install \
    "CREATE TABLE secrets.x (id int)"
refused "svc_secrets cannot create tables in its own schema" 'permission denied' sql_as \
    svc_secrets "CREATE TABLE secrets.x (id int)"
refused "svc_secrets cannot write core.api_keys" 'permission denied' sql_as svc_secrets \
    "DELETE FROM core.api_keys"
refused "svc_secrets cannot create API keys" 'permission denied' sql_as svc_secrets \
    "SELECT core.create_api_key('acct_owner', NULL, false)"
check "svc_secrets reads install.app_access" test \
    "$(sql_as svc_secrets "SELECT permissions FROM install.app_access
        WHERE app_id = 'com.example.app' AND account_id = 'acct_user' AND NOT livemode")" \
    = "{secret_write,event_read}"
check "svc_identity reads install.app_access" sql_as svc_identity "SELECT * FROM install.app_access"
check "svc_identity inserts events" sql_as svc_identity \
    "INSERT INTO core.events (id, type, livemode, data) VALUES ('evt_2', 'test', false, '{}')"
refused "svc_identity cannot update events" 'permission denied' sql_as svc_identity \
    "UPDATE core.events SET type = 'x'"
# Delivery updates core.event_deliveries, never the events themselves.
refused "svc_install cannot update events" 'permission denied' sql_as svc_install \
    "UPDATE core.events SET type = 'x'"
refused "no service role reads password hashes" 'permission denied' sql_as svc_install \
    "SELECT password_hash FROM core.users"
refused "a role without the grant cannot create audit partitions" 'permission denied' \
    psql -X -q -v ON_ERROR_STOP=1 -At -c "SET ROLE audit_reader" \
    -c "SELECT core.audit_ensure_partition('2001-01-01')"
check "svc_install records idempotency keys" sql_as svc_install \
    "INSERT INTO core.idempotency (owner, key, route, params_hash, status, body)
     VALUES ('o', 'k', 'POST /x', '\x00', 200, '{}')"
check "svc_install writes install.installations" sql_as svc_install \
    "UPDATE install.installations SET uninstalled_at = now() WHERE id = 'inst_1'"
check "uninstalling removes access" test \
    "$(sql_as svc_secrets "SELECT count(*) FROM install.app_access")" = 0
refused "one published version per app" 'app_versions_one_published' sql_as "$SUPERUSER" \
    "UPDATE install.app_versions SET published = true WHERE version = '1.0.0'"

shtest_summary
