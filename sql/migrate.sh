#!/usr/bin/env bash
# Brings a database up to date with the migrations in this directory.
#
#   sql/migrate.sh [--dry-run] [--dir DIR]
#
# Connects through the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE,
# .pgpass, PGSERVICE ...) as a role that owns the database: the cluster
# superuser in development (eval "$(deploy/pgctl.sh env DATADIR)" first). Then:
#   1. applies DIR/roles.sql (creates the service roles if missing);
#   2. creates migrations.applied if missing;
#   3. checks every schema's files, DIR/<schema>/NNNN_<name>.sql, against what
#      was applied, and refuses (exit 1, no migration applied) a gap or duplicate in
#      the versions, an applied file whose content changed, or an applied
#      version whose file is gone;
#   4. applies, schema by schema (core, install, secrets, identity) in version
#      order, each pending file in a transaction of its own that also records
#      it in migrations.applied, printing one line per file;
#   5. applies DIR/grants.sql (every run: new tables need their grants);
#   6. applies every DIR/reports/*.sql in name order, all in one transaction
#      (every run: the report views are idempotent definitions, not
#      versioned migrations).
# A session-level advisory lock, held from step 1 to the end, keeps two
# runners from interleaving; the second waits. Re-running is a no-op.
# --dry-run lists the pending files and changes nothing. --dir (default: this
# script's directory) points at another copy of the migrations.
set -euo pipefail

PROG=${0##*/}
SCHEMAS=(core install secrets identity)
# The advisory lock's key: a constant of this tool's own (shown in pg_locks).
LOCK_KEY=7411852930164471

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s [--dry-run] [--dir DIR]\n' "$PROG" >&2
    exit 2
}

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dry_run=0
while [[ $# -gt 0 ]]; do
    case $1 in
    --dry-run) dry_run=1 ;;
    --dir)
        [[ $# -ge 2 ]] || usage
        dir=$2
        shift
        ;;
    -h | --help) usage ;;
    *) usage ;;
    esac
    shift
done
[[ -d $dir ]] || die "no such directory: $dir"
dir=$(cd "$dir" && pwd)

# Notices ("schema ... already exists, skipping") are noise here; errors are not.
export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# One query; unaligned, no headers: a row per line, fields separated by spaces.
query() {
    "${PSQL[@]}" -At -F ' ' -c "$1"
}

# Holds the advisory lock in a psql session that lives as long as this script:
# the session ends (and the lock with it) when its stdin closes at exit.
take_lock() {
    local line
    coproc LOCKER { "${PSQL[@]}" -At 2>&1; }
    printf 'SELECT pg_advisory_lock(%s);\nSELECT %s;\n' "$LOCK_KEY" "'locked'" >&"${LOCKER[1]}"
    while IFS= read -r line <&"${LOCKER[0]}"; do
        [[ $line == locked ]] && return 0
    done
    die "could not take the migration lock"
}

# What the directory holds, filled by scan(): for "schema:version" keys, the
# file's path, name and sha256; for each schema, its number of versions.
declare -A FILE_PATH=() FILE_NAME=() FILE_SHA=() COUNT=()
# What the database recorded, filled by load_applied(): "name sha256" by key.
declare -A APPLIED=()

# Reads DIR/<schema>/*.sql. Refuses a file not named NNNN_<name>.sql, a
# duplicate version and a gap: versions must be 1..N.
scan() {
    local schema path base version key
    for schema in "${SCHEMAS[@]}"; do
        COUNT[$schema]=0
        [[ -d $dir/$schema ]] || continue
        for path in "$dir/$schema"/*.sql; do
            [[ -e $path ]] || continue
            base=${path##*/}
            [[ $base =~ ^([0-9]{4})_([a-z0-9_]+)\.sql$ ]] ||
                die "$schema/$base: migrations are named NNNN_<name>.sql, name in [a-z0-9_]"
            version=$((10#${BASH_REMATCH[1]}))
            key=$schema:$version
            [[ -z ${FILE_PATH[$key]:-} ]] ||
                die "$schema: version $version twice: ${FILE_PATH[$key]##*/} and $base"
            FILE_PATH[$key]=$path
            FILE_NAME[$key]=${BASH_REMATCH[2]}
            FILE_SHA[$key]=$(sha256sum <"$path" | cut -d ' ' -f 1)
            if ((version > COUNT[$schema])); then
                COUNT[$schema]=$version
            fi
        done
        for ((version = 1; version <= COUNT[$schema]; version++)); do
            [[ -n ${FILE_PATH[$schema:$version]:-} ]] ||
                die "$schema: version $(printf '%04d' "$version") is missing (versions must be 1..N without gaps)"
        done
    done
}

# Reads migrations.applied (absent before the first run) and refuses an
# applied version whose file is gone or differs from what was applied.
load_applied() {
    local rows schema version name sha key
    [[ $(query "SELECT to_regclass('migrations.applied') IS NOT NULL") == t ]] || return 0
    rows=$(query "SELECT schema, version, name, sha256 FROM migrations.applied ORDER BY 1, 2")
    while read -r schema version name sha; do
        [[ -n $schema ]] || continue
        key=$schema:$version
        APPLIED[$key]="$name $sha"
        [[ -n ${FILE_PATH[$key]:-} ]] ||
            die "$schema: $(printf '%04d' "$version")_$name.sql was applied but is no longer in $dir/$schema"
        [[ ${FILE_NAME[$key]} == "$name" && ${FILE_SHA[$key]} == "$sha" ]] ||
            die "$schema/${FILE_PATH[$key]##*/} differs from $(printf '%04d' "$version")_$name.sql as applied (sha256 $sha): migrations only move forward, add a new one"
    done <<<"$rows"
}

# Applies DIR/reports/*.sql (views over the audit log), in name order, in one
# transaction: a broken file leaves the previous definitions in place.
apply_reports() {
    local path files=()
    for path in "$dir/reports"/*.sql; do
        if [[ -e $path ]]; then
            files+=(-f "$path")
        fi
    done
    [[ ${#files[@]} -gt 0 ]] || return 0
    "${PSQL[@]}" --single-transaction "${files[@]}" ||
        die "reports/*.sql failed: none of them was applied"
}

# Pending "schema:version" keys, in the order they apply.
pending() {
    local schema version
    for schema in "${SCHEMAS[@]}"; do
        for ((version = 1; version <= COUNT[$schema]; version++)); do
            [[ -n ${APPLIED[$schema:$version]:-} ]] || printf '%s\n' "$schema:$version"
        done
    done
}

apply() {
    local key=$1 schema=${1%%:*} version=${1##*:}
    local path=${FILE_PATH[$key]}
    # schema, name and sha256 are [a-z0-9_] by construction: safe to inline.
    "${PSQL[@]}" --single-transaction -f "$path" \
        -c "INSERT INTO migrations.applied (schema, version, name, sha256)
            VALUES ('$schema', $version, '${FILE_NAME[$key]}', '${FILE_SHA[$key]}')" ||
        die "$schema/${path##*/} failed: nothing of it was applied"
    printf 'applied %s/%s\n' "$schema" "${path##*/}"
}

create_applied_table() {
    "${PSQL[@]}" --single-transaction \
        -c "CREATE SCHEMA IF NOT EXISTS migrations" \
        -c "CREATE TABLE IF NOT EXISTS migrations.applied (
                schema     text NOT NULL,
                version    integer NOT NULL CHECK (version > 0),
                name       text NOT NULL,
                sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                applied_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (schema, version))" >/dev/null ||
        die "cannot create migrations.applied"
}

main() {
    local key todo

    scan
    if ((dry_run)); then
        load_applied
        todo=$(pending)
        for key in $todo; do
            printf 'pending %s/%s\n' "${key%%:*}" "${FILE_PATH[$key]##*/}"
        done
        return 0
    fi
    take_lock
    "${PSQL[@]}" --single-transaction -f "$dir/roles.sql" || die "roles.sql failed"
    create_applied_table
    load_applied # under the lock: no one else is applying now
    todo=$(pending)
    for key in $todo; do
        apply "$key"
    done
    "${PSQL[@]}" --single-transaction -f "$dir/grants.sql" || die "grants.sql failed"
    apply_reports
}

main
