#!/usr/bin/env bash
# Style and shell checks, one test per file: clang-format (.clang-format,
# STYLE.md) on every C source and header, shellcheck on every shell script.
# Prints each failure with the tool's output, then "N passed, M failed".
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
passed=0
failed=0

check() { # name, command...
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL %s\n%s\n' "$name" "$out"
    fi
}

while IFS= read -r f; do
    check "clang-format $f" clang-format --dry-run -Werror "$f"
done < <(git ls-files '*.c' '*.h')
while IFS= read -r f; do
    check "shellcheck $f" shellcheck -x "$f"
done < <(git ls-files '*.sh' .ci/run)

printf '%d passed, %d failed\n' "$passed" "$failed"
[[ $failed -eq 0 ]]
