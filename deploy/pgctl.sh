#!/usr/bin/env bash
# Private PostgreSQL clusters for the local stack and the tests.
#
#   pgctl.sh start DATADIR PORT   initdb if needed, then start (idempotent)
#   pgctl.sh stop DATADIR         fast shutdown (idempotent)
#   pgctl.sh restart DATADIR      fast restart
#   pgctl.sh env DATADIR          prints export lines for libpq (eval "$(pgctl.sh env DIR)")
#
# A cluster listens only on a unix socket in DATADIR/run and trusts every
# local connection, so it must never hold real data. Its superuser is the OS
# user that ran initdb. PostgreSQL refuses to run as root: as root, the
# cluster belongs to the `postgres` system user and every server command runs
# through runuser; root clients still connect (as PGUSER=postgres) through the
# socket. Creates the database `stripe`.
set -euo pipefail

PROG=${0##*/}
DBNAME=stripe

die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

usage() {
    printf 'usage: %s start DATADIR PORT | stop DATADIR | restart DATADIR | env DATADIR\n' \
        "$PROG" >&2
    exit 2
}

# The newest installed server, e.g. /usr/lib/postgresql/15/bin.
pg_bindir() {
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)
    [[ -n $dir && -x $dir/pg_ctl ]] || die "no PostgreSQL server under /usr/lib/postgresql"
    printf '%s\n' "$dir"
}

# Runs a command as the cluster's owner.
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

absdir() {
    [[ -n $1 ]] || usage
    case $1 in
    /*) printf '%s\n' "${1%/}" ;;
    *) printf '%s/%s\n' "$PWD" "${1%/}" ;;
    esac
}

has_cluster() {
    [[ -f $1/PG_VERSION ]]
}

is_running() {
    has_cluster "$1" && as_owner "$BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# The port the cluster is configured for (set by `start`).
cluster_port() {
    sed -n "s/^port = \([0-9][0-9]*\)$/\1/p" "$1/pgctl.conf" 2>/dev/null | tail -n 1
}

cluster_owner() {
    stat -c %U "$1/PG_VERSION"
}

init_cluster() {
    local data=$1
    mkdir -p "$data"
    if [[ $EUID -eq 0 ]]; then
        chown postgres:postgres "$data"
        runuser -u postgres -- test -x "$data" ||
            die "user postgres cannot reach $data: make its parent directories traversable (chmod o+x)"
    fi
    chmod 0700 "$data"
    as_owner "$BIN/initdb" -D "$data" --encoding=UTF8 --locale=C \
        --auth-local=trust --auth-host=reject >/dev/null
    # Settings live in their own file, rewritten on every start (the port may change).
    printf "\ninclude_if_exists = 'pgctl.conf'\n" | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

write_conf() {
    local data=$1 port=$2
    as_owner tee "$data/pgctl.conf" >/dev/null <<EOF
# Written by deploy/pgctl.sh on every start; edit that script instead.
listen_addresses = ''
unix_socket_directories = '$data/run'
port = $port
fsync = on
shared_buffers = 128MB
max_connections = 100
EOF
}

# Creates the run and log directories the server needs.
make_dirs() {
    local data=$1
    as_owner mkdir -p "$data/run" "$data/log"
    as_owner chmod 0755 "$data/run"
}

pg_start() {
    local data=$1 port=$2
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
        die "bad port: $port"
    fi
    if is_running "$data"; then
        [[ $(cluster_port "$data") == "$port" ]] ||
            die "$data is already running on port $(cluster_port "$data"), not $port"
    else
        has_cluster "$data" || init_cluster "$data"
        write_conf "$data" "$port"
        make_dirs "$data"
        as_owner "$BIN/pg_ctl" -D "$data" -l "$data/log/postgresql.log" -w -s start ||
            die "server did not start; see $data/log/postgresql.log"
    fi
    ensure_db "$data"
}

ensure_db() {
    local data=$1 exists
    exists=$(psql -X -q -h "$data/run" -p "$(cluster_port "$data")" -U "$(cluster_owner "$data")" \
        -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")
    if [[ $exists != 1 ]]; then
        psql -X -q -h "$data/run" -p "$(cluster_port "$data")" -U "$(cluster_owner "$data")" \
            -d postgres -c "CREATE DATABASE $DBNAME"
    fi
}

pg_stop() {
    local data=$1
    if is_running "$data"; then
        as_owner "$BIN/pg_ctl" -D "$data" -m fast -w -s stop
    fi
}

pg_restart() {
    local data=$1
    has_cluster "$data" || die "no cluster in $data (use start)"
    make_dirs "$data"
    as_owner "$BIN/pg_ctl" -D "$data" -l "$data/log/postgresql.log" -m fast -w -s restart ||
        die "server did not restart; see $data/log/postgresql.log"
}

pg_env() {
    local data=$1
    has_cluster "$data" || die "no cluster in $data (use start)"
    printf 'export PGHOST=%q\n' "$data/run"
    printf 'export PGPORT=%s\n' "$(cluster_port "$data")"
    printf 'export PGUSER=%s\n' "$(cluster_owner "$data")"
    printf 'export PGDATABASE=%s\n' "$DBNAME"
}

[[ $# -ge 2 ]] || usage
BIN=$(pg_bindir)
cmd=$1
data=$(absdir "$2")
case $cmd in
start)
    [[ $# -eq 3 ]] || usage
    pg_start "$data" "$3"
    ;;
stop)
    [[ $# -eq 2 ]] || usage
    pg_stop "$data"
    ;;
restart)
    [[ $# -eq 2 ]] || usage
    pg_restart "$data"
    ;;
env)
    [[ $# -eq 2 ]] || usage
    pg_env "$data"
    ;;
*) usage ;;
esac
