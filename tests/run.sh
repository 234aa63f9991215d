#!/usr/bin/env bash
# Every test behind `make test`, against sanitized (ASan+UBSan) binaries in a
# scratch directory that is removed afterwards (kept when something failed):
#
#   1. build build-asan/ (services and the Check runner)
#   2. a scratch PostgreSQL with the migrations applied
#   3. the Check unit tests against it          4. tests/e2e/test_migrate.sh
#   5. the stack behind nginx: pytest (tests/e2e, tests/sdk/python), stripe-node,
#      chromium (tests/browser: the audit report of sql/reports/report.py, the
#      install flow, the hosted verification page)
#   6. the stack behind Apache: the pytest smoke subset
#   7. the services' logs hold no sanitizer report, and they stopped on SIGTERM
#
# The last line is the total over all stages, "N passed, M failed"; the exit
# status is non-zero when anything failed. A stage that crashes or cannot run
# counts as one failed test. Set KEEP_TEST_DIR=1 to keep the scratch
# directory even on success.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh

SANITIZER_REPORT='ERROR: AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer'
STARTED=$SECONDS
WORK=$(mktemp -d /tmp/cm-test.XXXXXX)
# PostgreSQL (user postgres) and the web servers' workers (nobody) reach
# their files and sockets through this directory.
chmod 0755 "$WORK"
SCRATCH_PG=""
CLEANED=0
REPORTED=0

stack_sh() {
    deploy/stack.sh "$@"
}

# Stops whatever this run started; safe to call more than once.
cleanup() {
    [[ $CLEANED -eq 0 ]] || return 0
    CLEANED=1
    if [[ -n ${STACK_DIR:-} && -d $STACK_DIR ]]; then
        stack_sh stop >>"$WORK/cleanup.log" 2>&1 || warn "stopping the stack failed (see $WORK/cleanup.log)"
    fi
    if [[ -n $SCRATCH_PG ]]; then
        deploy/pgctl.sh stop "$SCRATCH_PG" >>"$WORK/cleanup.log" 2>&1 ||
            warn "stopping the scratch PostgreSQL failed (see $WORK/cleanup.log)"
    fi
}

# Cleans up, prints the summary as the last line and exits with the verdict.
finish() {
    cleanup
    if [[ $TALLY_FAILED -eq 0 && ${KEEP_TEST_DIR:-0} != 1 ]]; then
        rm -rf "$WORK"
    else
        printf '\nscratch directory kept: %s\n' "$WORK"
    fi
    [[ ${ASAN_OPTIONS:-} != *detect_leaks=0* ]] || printf 'NOTE: leak detection was OFF (see the notice at the top)\n'
    printf 'tests/run.sh: %d s\n' $((SECONDS - STARTED))
    REPORTED=1
    printf '%d passed, %d failed\n' "$TALLY_PASSED" "$TALLY_FAILED"
    exit $((TALLY_FAILED == 0 ? 0 : 1))
}

# An unexpected error in this script still ends with a summary.
# shellcheck disable=SC2317 # called from the EXIT trap
on_exit() {
    local status=$?
    [[ $REPORTED -eq 0 ]] || return 0
    warn "aborted (exit status $status)"
    TALLY_FAILED=$((TALLY_FAILED + 1))
    finish
}

# Interrupted: stop everything, no verdict.
# shellcheck disable=SC2317 # called from the INT and TERM traps
on_signal() {
    warn "$1"
    cleanup
    printf 'scratch directory kept: %s\n' "$WORK"
    REPORTED=1
    exit "$2"
}

trap on_exit EXIT
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM

# start_stack NAME: starts the stack as configured by the environment; on
# failure counts NAME as failed and shows the end of the log.
start_stack() {
    note "$1: deploy/stack.sh start (WEB=$WEB, http://127.0.0.1:$HTTP_PORT, $STACK_DIR)"
    if stack_sh start >"$WORK/$1-start.log" 2>&1; then
        return 0
    fi
    tail -n 40 "$WORK/$1-start.log"
    fail_stage "$1" "the stack did not start (log: $WORK/$1-start.log)"
    return 1
}

# stop_stack NAME: stops the stack; a service that needed SIGKILL (it did
# not finish on SIGTERM) fails the stage.
stop_stack() {
    if ! stack_sh stop >"$WORK/$1-stop.log" 2>&1; then
        cat "$WORK/$1-stop.log"
        fail_stage "$1 shutdown" "deploy/stack.sh stop failed"
    elif grep -q 'ignored SIGTERM' "$WORK/$1-stop.log"; then
        cat "$WORK/$1-stop.log"
        fail_stage "$1 shutdown" "a process did not stop on SIGTERM"
    fi
}

# 1. Build.
note "sanitizers"
sanitizer_env "$WORK"
printf 'ASAN_OPTIONS=%s UBSAN_OPTIONS=%s\n' "$ASAN_OPTIONS" "$UBSAN_OPTIONS"
note "build: make -j2 SAN=1"
if ! make -j2 SAN=1 all build-asan/tests/unit/check_libcommon; then
    fail_stage build "make failed"
    finish
fi

# 2. A scratch PostgreSQL for the unit and migration tests.
read -r scratch_port STACK_PG_PORT NGINX_PORT APACHE_PORT CALLBACK_PORT < <(free_ports 5 | paste -s -d ' ')
note "scratch PostgreSQL (port $scratch_port) and migrations"
SCRATCH_PG=$WORK/pg
if deploy/pgctl.sh start "$SCRATCH_PG" "$scratch_port" &&
    pg_env=$(deploy/pgctl.sh env "$SCRATCH_PG") && eval "$pg_env" && sql/migrate.sh; then
    printf '%s\n' "$pg_env"
else
    fail_stage "scratch database" "the scratch PostgreSQL or its migrations failed"
fi

# Style: clang-format and shellcheck, one test per file.
run_stage "lint (clang-format, shellcheck)" counts_summary "$WORK/lint.log" tests/lint.sh

# 3, 4. Unit tests, migration tests.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}
run_stage "unit tests (Check)" counts_check "$WORK/check.log" build-asan/tests/unit/check_libcommon
if [[ -x tests/e2e/test_migrate.sh ]]; then
    run_stage "migration tests" counts_summary "$WORK/migrate.log" tests/e2e/test_migrate.sh
else
    fail_stage "migration tests" "tests/e2e/test_migrate.sh is missing or not executable"
fi
run_stage "audit chain and retention tests" counts_summary "$WORK/audit-chain.log" \
    tests/e2e/test_audit_chain.sh
run_stage "audit report roll-up tests" counts_summary "$WORK/report-rollup.log" \
    tests/e2e/test_report_rollup.sh
deploy/pgctl.sh stop "$SCRATCH_PG" >>"$WORK/cleanup.log" 2>&1 || true
SCRATCH_PG=""
unset PGHOST PGPORT PGUSER PGDATABASE

# 5. The stack behind nginx: everything.
export STACK_DIR=$WORK/stack BIN_DIR=$ROOT/build-asan PG_PORT=$STACK_PG_PORT CALLBACK_PORT
export STACK_DEV_JSON=$STACK_DIR/dev.json PYTHONDONTWRITEBYTECODE=1
# Webhook retries after 1 s, 2 s, 4 s... instead of a minute (the receiver
# tests of tests/e2e/test_webhooks.py wait for them).
export INST_WEBHOOK_RETRY_BASE=1
export WEB=nginx HTTP_PORT=$NGINX_PORT
if start_stack nginx; then
    run_stage "pytest (nginx)" counts_pytest "$WORK/pytest-nginx.log" \
        "$PYTHON" -m pytest -q tests/e2e tests/sdk/python
    note "npm ci (tests/sdk/node)"
    if npm ci --prefix tests/sdk/node --no-audit --no-fund >"$WORK/npm.log" 2>&1; then
        run_stage "stripe-node (nginx)" counts_node "$WORK/node.log" \
            node --test --test-reporter=tap tests/sdk/node/
    else
        tail -n 20 "$WORK/npm.log"
        fail_stage "stripe-node (nginx)" "npm ci failed"
    fi
    # The audit report of the test activity, then chromium: the report page,
    # the install flow, the hosted verification page.
    note "audit report: sql/reports/report.py into $WORK/report"
    if pg_env=$(deploy/pgctl.sh env "$STACK_DIR/pg") &&
        (eval "$pg_env" && sql/reports/report.py --out "$WORK/report") >"$WORK/report.log" 2>&1 &&
        npm ci --prefix tests/browser --no-audit --no-fund >"$WORK/npm-browser.log" 2>&1; then
        run_stage "browser tests (chromium)" counts_node "$WORK/browser.log" \
            env REPORT_HTML="$WORK/report/report.html" SCREENSHOT_DIR="$WORK/report" \
            node --test --test-reporter=tap tests/browser/
    else
        tail -n 20 "$WORK/report.log" "$WORK/npm-browser.log" 2>/dev/null || true
        fail_stage "browser tests (chromium)" "report.py or npm ci (tests/browser) failed"
    fi
fi
stop_stack nginx

# 6. The same stack behind Apache: the smoke subset.
export WEB=apache HTTP_PORT=$APACHE_PORT
if start_stack apache; then
    run_stage "pytest smoke (apache)" counts_pytest "$WORK/pytest-apache.log" \
        "$PYTHON" -m pytest -q -m smoke tests/e2e tests/sdk/python
fi
stop_stack apache

# 7. Sanitizer reports from the services (written at exit for leaks).
note "sanitizer reports in $STACK_DIR/log"
if [[ -d $STACK_DIR/log ]] && grep -r -n -E "$SANITIZER_REPORT" "$STACK_DIR/log" >"$WORK/sanitizer.txt"; then
    head -n 40 "$WORK/sanitizer.txt"
    fail_stage "sanitizers" "$(wc -l <"$WORK/sanitizer.txt") report line(s) in the service logs (above)"
else
    printf 'none\n'
fi

finish
