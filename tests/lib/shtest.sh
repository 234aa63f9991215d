# Helpers for the shell tests (tests/e2e/test_*.sh): source it, call the
# checks, end with `shtest_summary`, which prints "N passed, M failed" (the
# line tests/run.sh counts) and returns non-zero when anything failed.
# shellcheck shell=bash

passed=0
failed=0

ok() {
    passed=$((passed + 1))
    printf 'ok   %s\n' "$1"
}

not_ok() {
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$1"
    [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/     | /'
}

# check NAME CMD...: passes when CMD succeeds.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

# refused NAME PATTERN CMD...: passes when CMD fails with output matching PATTERN.
refused() {
    local name=$1 pattern=$2 out
    shift 2
    if out=$("$@" 2>&1); then
        not_ok "$name" "succeeded: $out"
    elif grep -Eq -- "$pattern" <<<"$out"; then
        ok "$name"
    else
        not_ok "$name" "$out"
    fi
}

shtest_summary() {
    printf '%d passed, %d failed\n' "$passed" "$failed"
    [[ $failed -eq 0 ]]
}
