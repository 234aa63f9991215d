#!/usr/bin/env bash
# Creates a key file for encryption at rest, or appends a new key to one.
# The format is described in libcommon/include/cm/crypto.h: one
# "<key_id> <64 hex digits>" per line, the last key being the active one.
#
#   deploy/keygen.sh PATH [KEY_ID]             append a new key (active on restart)
#   deploy/keygen.sh --stage PATH [KEY_ID]     add a new key first: known, not active
#   deploy/keygen.sh --activate PATH KEY_ID    move KEY_ID last: the active key
#
# KEY_ID defaults to k<unix time>. A new file is created with mode 0600. The
# key comes from `openssl rand` and goes only into the file; the script prints
# the key id, never the key.
#
# Rotation without downtime (README, "Rotating the encryption key"): --stage,
# restart every instance (each can now open rows sealed under the new key),
# --activate, restart every instance again (new rows use the new key),
# `svc-secrets --rotate-keys`, `svc-install --rotate-keys` and
# `svc-identity --rotate-keys` (each re-seals its service's old rows), then
# delete the old key's line.
set -euo pipefail

prog=${0##*/}

die() {
    echo "$prog: $*" >&2
    exit 1
}

usage() {
    echo "usage: $prog [--stage] PATH [KEY_ID] | $prog --activate PATH KEY_ID" >&2
    exit 2
}

action=append
case ${1:-} in
--stage | --activate)
    action=${1#--}
    shift
    ;;
esac
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ] || { [ "$action" = activate ] && [ $# -ne 2 ]; }; then
    usage
fi
path=$1
key_id=${2:-k$(date +%s)}

[[ $key_id =~ ^[A-Za-z0-9_-]{1,32}$ ]] ||
    die "key id must be 1 to 32 characters from [A-Za-z0-9_-]"

umask 077
if [ -e "$path" ] && [ ! -f "$path" ]; then
    die "$path is not a regular file"
fi

# Hold a lock beside the file (not on it: a rewrite replaces its inode), so
# two runs at once cannot interleave their lines or both pick the same id.
exec 8>>"$path.lock"
flock 8
# Open for appending (creating it 0600 if missing).
exec 9>>"$path"

mode=$(stat -L -c %a "$path")
if ((8#$mode & 8#077)); then
    die "$path has mode $mode, which gives group or others access; chmod 600 it first"
fi
has_key() {
    grep -Eq "^[[:blank:]]*${key_id}[[:blank:]]" "$path"
}

# Rewrites the file through a temporary in the same directory with the
# file's own owner and mode (a root-run --stage must not take the services'
# key file away from their user), replaced atomically, so a service starting
# meanwhile reads the old or the new file.
rewrite() {
    local tmp
    tmp=$(mktemp "$path.XXXXXX")
    cat >"$tmp"
    chown --reference="$path" "$tmp"
    chmod "$mode" "$tmp"
    mv -f "$tmp" "$path"
}

if [ "$action" = activate ]; then
    has_key || die "$path holds no key with id $key_id"
    { grep -Ev "^[[:blank:]]*${key_id}[[:blank:]]" "$path" || true; grep -E "^[[:blank:]]*${key_id}[[:blank:]]" "$path"; } | rewrite
    echo "$key_id"
    exit 0
fi
if has_key; then
    die "$path already holds a key with id $key_id"
fi

key=$(openssl rand -hex 32)
[[ $key =~ ^[0-9a-f]{64}$ ]] || die "openssl rand did not return 64 hex digits"

if [ ! -s "$path" ]; then
    printf '# Keys for encryption at rest: <key_id> <64 hex digits>; the last one is active.\n' >&9
elif [ -n "$(tail -c 1 "$path")" ]; then
    # The last line has no newline: end it, or the new key would join it.
    printf '\n' >&9
fi
if [ "$action" = stage ] && grep -Eq '^[[:blank:]]*[A-Za-z0-9_-]+[[:blank:]]' "$path"; then
    # Before the first key line: the last line, the active key, stays last.
    awk -v line="$key_id $key" '!done && /^[[:blank:]]*[A-Za-z0-9_-]+[[:blank:]]/ { print line; done = 1 } { print }' "$path" | rewrite
else
    printf '%s %s\n' "$key_id" "$key" >&9
fi
exec 9>&- 8>&-

echo "$key_id"
