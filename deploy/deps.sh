#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs to build, run and test,
# and only those that are missing: one dpkg-query answers for all of them, so
# when nothing is missing the script costs a few milliseconds and never calls
# apt. Otherwise it runs `apt-get update` once and installs the missing ones
# without recommends (through sudo when not root).
#
#   deploy/deps.sh          install what is missing
#   deploy/deps.sh --check  list what is missing; exit 1 if anything is
#
# Installing nginx, apache2 or postgresql may start Debian's own system
# daemons (port 80, port 5432). Nothing here uses them: the local stack runs
# private instances with their own configuration, ports and data directories.
set -euo pipefail

prog=${0##*/}

packages=(
    build-essential pkg-config
    libfcgi-dev libjansson-dev check libssl-dev libpq-dev libcurl4-openssl-dev
    postgresql nginx-light apache2
    python3 python3-pytest python3-stripe
    wrk curl ca-certificates clang-format shellcheck chromium
)

# PostgreSQL's contrib modules (pgcrypto) ship in postgresql-15 on Debian 12;
# the file is checked because older layouts split them into -contrib.
pgcrypto_control=/usr/share/postgresql/15/extension/pgcrypto.control

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

# Prints the packages of "$@" that are not fully installed, one a line.
missing_packages() {
    local name status
    # dpkg-query exits 1 when it knows nothing of some package: those are
    # missing too, so its status is not an error here.
    declare -A installed=()
    while IFS=' ' read -r name status; do
        [[ $status == ii ]] && installed[${name%%:*}]=1
    done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
    for name in "$@"; do
        [[ -n ${installed[$name]:-} ]] || printf '%s\n' "$name"
    done
}

check_only=0
case ${1:-} in
"") ;;
--check) check_only=1 ;;
*)
    printf 'usage: %s [--check]\n' "$prog" >&2
    exit 2
    ;;
esac

command -v dpkg-query >/dev/null || die "this script needs a Debian system (no dpkg-query)"

mapfile -t missing < <(missing_packages "${packages[@]}")
[[ -f $pgcrypto_control ]] || missing+=(postgresql-contrib)
# Node.js may come from Debian (nodejs + npm) or from NodeSource, whose nodejs
# package carries npm and conflicts with Debian's npm: ask for the commands.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ $check_only -eq 1 ]]; then
    printf '%s\n' "${missing[@]}"
    exit 1
fi

sudo=()
if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null ||
        die "not root and no sudo: install as root: apt-get install ${missing[*]}"
    sudo=(sudo)
fi

printf '%s: installing %s\n' "$prog" "${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages "${packages[@]}")
[[ -f $pgcrypto_control ]] || still+=("postgresql-contrib (no $pgcrypto_control)")
[[ ${#still[@]} -eq 0 ]] || die "still missing after apt-get: ${still[*]}"
