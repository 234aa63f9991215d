# shellcheck shell=bash
# Shell helpers shared by tests/run.sh and tests/load/bench.sh: messages,
# free TCP ports, the sanitizer environment, and the tally of test results
# that each runner's own summary line is parsed into. Sourced, never run.

# The interpreter with Debian's python3-pytest and python3-stripe; the python3
# first on PATH may be another one without them.
PYTHON=/usr/bin/python3

note() {
    printf '\n==> %s\n' "$*"
}

warn() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# free_ports N: prints N distinct TCP ports that are free on 127.0.0.1 right
# now, one a line. The kernel picks them (bind to port 0); every socket stays
# open until all are chosen so the N ports differ.
free_ports() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# sanitizer_env WORKDIR: exports ASAN_OPTIONS and UBSAN_OPTIONS for the
# sanitized build. LeakSanitizer needs to stop the process's threads
# (ptrace-like permission) at exit; where the sandbox forbids that it dies
# with a fatal error instead of reporting, so a probe with one known leak
# decides whether leak detection stays on, and says so when it does not.
sanitizer_env() {
    local dir=$1 out leaks=1
    printf '#include <stdlib.h>\nint main(void) { void *volatile p = malloc(7); p = 0; return 0; }\n' \
        >"$dir/lsan-probe.c"
    if ! cc -fsanitize=address -o "$dir/lsan-probe" "$dir/lsan-probe.c" 2>"$dir/lsan-probe.log"; then
        warn "NOTICE: cannot build the LeakSanitizer probe ($(head -n 1 "$dir/lsan-probe.log")); leak detection OFF"
        leaks=0
    else
        out=$(ASAN_OPTIONS=detect_leaks=1 "$dir/lsan-probe" 2>&1 || true)
        if [[ $out != *"LeakSanitizer: detected memory leaks"* ]]; then
            if [[ $out == *"LeakSanitizer has encountered a fatal error"* ]]; then
                warn "NOTICE: LeakSanitizer cannot run here (no ptrace permission); leak detection OFF"
            else
                warn "NOTICE: LeakSanitizer missed a known leak (${out%%$'\n'*}); leak detection OFF"
            fi
            leaks=0
        fi
    fi
    export ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
}

# The tally over every stage: TALLY_PASSED tests passed, TALLY_FAILED failed.
TALLY_PASSED=0
TALLY_FAILED=0

# Counts "P F" from the output of each kind of runner; nothing when the
# runner's summary is missing (it crashed before printing it).
counts_check() { # "100%: Checks: N, Failures: F, Errors: E"
    sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$1" |
        tail -n 1 | awk '{ print $1 - $2 - $3, $2 + $3 }'
}

counts_summary() { # "N passed, M failed" alone on a line
    sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1 \2/p' "$1" | tail -n 1
}

counts_pytest() { # "3 failed, 20 passed, 1 skipped, 2 errors in 1.23s"
    grep -E '^[= ]*(no tests ran|[0-9]+ [a-z]+.*) in [0-9.]+s' "$1" | tail -n 1 |
        awk '{
            p = 0; f = 0
            for (i = 2; i <= NF; i++) {
                w = $i; sub(/[,=]+$/, "", w)
                if (w == "passed") p += $(i - 1)
                else if (w == "failed" || w == "error" || w == "errors") f += $(i - 1)
            }
            print p, f
        }'
}

counts_node() { # TAP trailer: "# pass N", "# fail N", "# cancelled N"
    awk '/^# pass [0-9]+$/ { p = $3; seen = 1 }
         /^# (fail|cancelled) [0-9]+$/ { f += $3 }
         END { if (seen) print p, f + 0 }' "$1"
}

# tally NAME COUNTER LOG STATUS: adds a finished stage to the tally. A stage
# whose runner exited non-zero without reporting a failure, or printed no
# summary at all, counts as one more failed test.
tally() {
    local name=$1 counter=$2 log=$3 status=$4 counts passed failed
    counts=$("$counter" "$log" || true)
    if [[ -z $counts ]]; then
        passed=0 failed=1
        warn "$name: no summary from the runner (exit status $status): counted as 1 failed"
    else
        read -r passed failed <<<"$counts"
        if [[ $status -ne 0 && $failed -eq 0 ]]; then
            failed=1
            warn "$name: exit status $status with no failed test reported: counted as 1 failed"
        fi
    fi
    printf -- '--- %s: %d passed, %d failed\n' "$name" "$passed" "$failed"
    TALLY_PASSED=$((TALLY_PASSED + passed))
    TALLY_FAILED=$((TALLY_FAILED + failed))
}

# fail_stage NAME REASON: a stage that could not run at all.
fail_stage() {
    warn "$1: $2"
    printf -- '--- %s: 0 passed, 1 failed\n' "$1"
    TALLY_FAILED=$((TALLY_FAILED + 1))
}

# run_stage NAME COUNTER LOG CMD...: runs CMD with its output shown and kept
# in LOG, then tallies it.
run_stage() {
    local name=$1 counter=$2 log=$3 status=0
    shift 3
    note "$name"
    "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
    tally "$name" "$counter" "$log" "$status"
}
