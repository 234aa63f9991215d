#!/usr/bin/env bash
# Creates a key file for encryption at rest, or appends a new key to one.
# The format is described in libcommon/include/cm/crypto.h: one
# "<key_id> <64 hex digits>" per line, the last key being the active one.
#
#   deploy/keygen.sh PATH [KEY_ID]     KEY_ID defaults to k<unix time>
#
# A new file is created with mode 0600. The key comes from `openssl rand` and
# goes only into the file; the script prints the key id, never the key.
# Rotation: run this, restart the services, re-seal old rows, then delete the
# old key's line.
set -euo pipefail

prog=${0##*/}

die() {
    echo "$prog: $*" >&2
    exit 1
}

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
    echo "usage: $prog PATH [KEY_ID]" >&2
    exit 2
fi
path=$1
key_id=${2:-k$(date +%s)}

[[ $key_id =~ ^[A-Za-z0-9_-]{1,32}$ ]] ||
    die "key id must be 1 to 32 characters from [A-Za-z0-9_-]"

umask 077
if [ -e "$path" ] && [ ! -f "$path" ]; then
    die "$path is not a regular file"
fi

# Open for appending (creating it 0600 if missing) and hold a lock, so two
# runs at once cannot interleave their lines or both pick the same id.
exec 9>>"$path"
flock 9

mode=$(stat -L -c %a "$path")
if ((8#$mode & 8#077)); then
    die "$path has mode $mode, which gives group or others access; chmod 600 it first"
fi
if grep -Eq "^[[:blank:]]*${key_id}[[:blank:]]" "$path"; then
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
printf '%s %s\n' "$key_id" "$key" >&9
exec 9>&-

echo "$key_id"
