#!/usr/bin/env bash
# `make bench`: throughput and latency of the optimized build (build/) behind
# nginx, measured with wrk on a private stack in a scratch directory.
#
# Scenarios (each at 8, 32 and 64 connections):
#   unknown-url  GET /v1/x with a valid key: an authenticated 404, so the
#                request parse, the key lookup and the error path.
#
# Environment: BENCH_SECONDS [5] per run, BENCH_CONNECTIONS ["8 32 64"],
# BENCH_THREADS [2] wrk threads, BIN_DIR [<repo>/build], WEB [nginx].
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-8 32 64}
THREADS=${BENCH_THREADS:-2}

command -v wrk >/dev/null || {
    warn "wrk is not installed (deploy/deps.sh)"
    exit 1
}

WORK=$(mktemp -d /tmp/cm-bench.XXXXXX)
chmod 0755 "$WORK" # PostgreSQL and the web server's workers reach into it
read -r HTTP_PORT PG_PORT CALLBACK_PORT < <(free_ports 3 | paste -s -d ' ')
export STACK_DIR=$WORK/stack HTTP_PORT PG_PORT CALLBACK_PORT
export BIN_DIR=${BIN_DIR:-$ROOT/build} WEB=${WEB:-nginx}

cleanup() {
    deploy/stack.sh stop >>"$WORK/stop.log" 2>&1 || warn "stopping the stack failed: $(tail -n 5 "$WORK/stop.log")"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note "stack: $BIN_DIR behind $WEB on http://127.0.0.1:$HTTP_PORT"
if ! deploy/stack.sh start >"$WORK/start.log" 2>&1; then
    tail -n 40 "$WORK/start.log"
    warn "the stack did not start"
    exit 1
fi
KEY=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["accounts"][0]["secret_key"])' \
    "$STACK_DIR/dev.json")
BASE_URL=http://127.0.0.1:$HTTP_PORT

# expect_status PATH STATUS: one request must get STATUS with a Request-Id,
# so that wrk measures the answer it is meant to, not a 502.
expect_status() {
    local headers
    headers=$(curl -s -o /dev/null -D - -H "Authorization: Bearer $KEY" "$BASE_URL$1") || {
        warn "GET $1: no answer"
        return 1
    }
    if [[ ${headers%%$'\r'*} != "HTTP/1.1 $2 "* || ${headers,,} != *"request-id: req_"* ]]; then
        warn "GET $1: expected HTTP $2 from the service, got: ${headers%%$'\r'*}"
        return 1
    fi
}

# bench NAME PATH STATUS: wrk at each connection count, one table row each.
bench() {
    local name=$1 path=$2 status=$3 conns out rps p50 p99 errors
    for conns in $CONNECTIONS; do
        expect_status "$path" "$status"
        out=$(wrk -t "$((conns < THREADS ? conns : THREADS))" -c "$conns" -d "${SECONDS_PER_RUN}s" \
            --latency -H "Authorization: Bearer $KEY" "$BASE_URL$path")
        printf '%s\n' "$out" >>"$WORK/wrk.log"
        expect_status "$path" "$status"
        rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
        p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
        # connect/read/write/timeout socket errors, summed
        errors=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' \
            <<<"$out" | awk '{ print $1 + $2 + $3 + $4 }')
        printf '%-14s %5d %12s %10s %10s %8s\n' "$name" "$conns" "$rps" "$p50" "$p99" "${errors:-0}"
    done
}

note "wrk: ${SECONDS_PER_RUN}s per run, $THREADS threads"
printf '%-14s %5s %12s %10s %10s %8s\n' scenario conns requests/s p50 p99 errors
bench unknown-url /v1/x 404
