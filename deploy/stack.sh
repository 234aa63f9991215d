#!/usr/bin/env bash
# The local stack behind `make run`: a private PostgreSQL, the migrations,
# the dev fixture, the three FastCGI services on unix sockets and a private
# nginx or Apache on 127.0.0.1, all living under one directory.
#
#   deploy/stack.sh start        bring everything up (idempotent; restarts a
#                                service whose binary was rebuilt)
#   deploy/stack.sh stop         stop everything (idempotent)
#   deploy/stack.sh status       one line per piece; exit 3 if any is down
#   deploy/stack.sh restart-db   restart PostgreSQL only (services stay up)
#   deploy/stack.sh restart-services  restart the services (they re-read the key file)
#
# Environment (defaults in brackets):
#   STACK_DIR [<repo>/var]  pg/ (cluster), run/ (sockets, pids), log/, keys,
#                           dev.json, nginx/, apache/
#   HTTP_PORT [8080]  PG_PORT [54329]  WEB [nginx|apache]
#   BIN_DIR [<repo>/build]  CALLBACK_PORT [8090] (the fixture's redirect_uri)
# CM_THREADS, CM_MAX_BODY and the sanitizer options pass through to the
# services.
set -euo pipefail

prog=stack.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3
# nginx, apache2 and runuser live in /usr/sbin, which Debian leaves out of
# ordinary users' PATH.
PATH=$PATH:/usr/sbin:/sbin

SERVICES=(secrets identity install)
# One unauthenticated probe per service, through the web server.
declare -A PROBE=(
    [secrets]=/v1/apps/secrets
    [identity]=/v1/identity/verification_sessions
    [install]=/v1/events
)
READY_TIMEOUT=20
STOP_TIMEOUT=10

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

warn() {
    printf '%s: %s\n' "$prog" "$*" >&2
}

# Turns a possibly relative path into an absolute one (the directory need
# not exist yet).
absolute() {
    case $1 in
    /*) printf '%s\n' "${1%/}" ;;
    *) printf '%s/%s\n' "$PWD" "${1%/}" ;;
    esac
}

check_port() {
    if ! [[ $2 =~ ^[1-9][0-9]{0,4}$ ]] || (($2 > 65535)); then
        die "$1 must be a TCP port, not '$2'"
    fi
}

configure() {
    STACK_DIR=$(absolute "${STACK_DIR:-$repo/var}")
    BIN_DIR=$(absolute "${BIN_DIR:-$repo/build}")
    HTTP_PORT=${HTTP_PORT:-8080}
    PG_PORT=${PG_PORT:-54329}
    CALLBACK_PORT=${CALLBACK_PORT:-8090}
    WEB=${WEB:-nginx}
    check_port HTTP_PORT "$HTTP_PORT"
    check_port PG_PORT "$PG_PORT"
    check_port CALLBACK_PORT "$CALLBACK_PORT"
    [[ $WEB == nginx || $WEB == apache ]] || die "WEB must be nginx or apache, not '$WEB'"
    # The path goes verbatim into nginx, Apache and PostgreSQL configuration.
    [[ $STACK_DIR =~ ^[A-Za-z0-9_./+-]+$ ]] ||
        die "STACK_DIR may hold only letters, digits and _ . / + - ($STACK_DIR)"

    RUN=$STACK_DIR/run
    LOG=$STACK_DIR/log
    PGDATA_DIR=$STACK_DIR/pg
    KEY_FILE=$STACK_DIR/keys
    DEV_JSON=$STACK_DIR/dev.json
    BASE_URL=http://127.0.0.1:$HTTP_PORT
    # A unix socket path must fit in sun_path (108 bytes with its NUL).
    local longest=$RUN/svc-identity.sock
    ((${#longest} < 108)) || die "STACK_DIR is too long for unix socket paths ($longest)"
}

# --- processes --------------------------------------------------------------

# Prints the pid in FILE if that process is alive and runs a program named
# NAME (a rebuilt binary shows as "NAME (deleted)"); nothing otherwise.
live_pid() {
    local file=$1 name=$2 pid exe
    [[ -f $file ]] || return 0
    read -r pid <"$file" 2>/dev/null || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
    exe=${exe% (deleted)}
    [[ ${exe##*/} == "$name" ]] && printf '%s\n' "$pid"
    return 0
}

# True while PID runs: a zombie (exited, not yet reaped) counts as gone.
alive() {
    local stat
    # read, not $(<file): under set -e bash 5.2 exits on a failed $(<file)
    # even on the left of ||.
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# Stops the process in FILE named NAME: SIGTERM, then SIGKILL to its whole
# process group after STOP_TIMEOUT seconds. Removes FILE.
stop_pid() {
    local file=$1 name=$2 pid i
    pid=$(live_pid "$file" "$name")
    if [[ -n $pid ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            warn "WARNING: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            # Daemons lead their own process group; take their children too.
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                alive "$pid" || break
                sleep 0.1
            done
        fi
        printf '%s: stopped %s (pid %s)\n' "$prog" "$name" "$pid"
    fi
    rm -f "$file"
}

tail_log() {
    if [[ -s $1 ]]; then
        printf -- '--- last lines of %s:\n' "$1" >&2
        tail -n 20 "$1" >&2
    else
        printf -- '--- %s is empty\n' "$1" >&2
    fi
}

# --- PostgreSQL, migrations, keys, fixture ---------------------------------

start_db() {
    # 9>&-: no daemon may inherit the lock (see lock()).
    "$here/pgctl.sh" start "$PGDATA_DIR" "$PG_PORT" 9>&-
    load_db_env
}

# Exports the superuser's libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
load_db_env() {
    local env_lines
    env_lines=$("$here/pgctl.sh" env "$PGDATA_DIR")
    eval "$env_lines"
}

db_running() {
    [[ -f $PGDATA_DIR/PG_VERSION ]] || return 1
    load_db_env
    pg_isready -q -t 2 >/dev/null 2>&1
}

# --- services -----------------------------------------------------------------

service_pid() {
    live_pid "$RUN/svc-$1.pid" "svc-$1"
}

start_service() {
    local svc=$1 bin=$BIN_DIR/svc-$1 pid exe
    pid=$(service_pid "$svc")
    if [[ -n $pid ]]; then
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
        [[ $exe == "$(readlink -f "$bin")" ]] && return 0
        printf '%s: svc-%s changed (%s), restarting it\n' "$prog" "$svc" "$exe"
        stop_pid "$RUN/svc-$svc.pid" "svc-$svc"
    fi
    # The previous instance is gone, so its socket is stale.
    rm -f "$RUN/svc-$svc.sock"
    (
        export CM_LISTEN=$RUN/svc-$svc.sock CM_SOCKET_MODE=0666 CM_KEY_FILE=$KEY_FILE \
            CM_BASE_URL=$BASE_URL PGUSER=svc_$svc PGAPPNAME=svc-$svc
        # setsid: out of the caller's session, so ^C in a terminal that ran
        # `make run` does not reach the services.
        exec setsid "$bin" </dev/null >>"$LOG/svc-$svc.log" 2>&1 9>&-
    ) &
    printf '%s\n' "$!" >"$RUN/svc-$svc.pid"
}

stop_services() {
    local svc
    for svc in "${SERVICES[@]}"; do
        stop_pid "$RUN/svc-$svc.pid" "svc-$svc"
        rm -f "$RUN/svc-$svc.sock"
    done
}

# --- web servers --------------------------------------------------------------

# Renders TEMPLATE into OUT, filling @PREFIX@ @RUN_DIR@ @LOG_DIR@ @HTTP_PORT@
# and @USER_DIRECTIVE@.
render() {
    local template=$1 out=$2 prefix=$3 user_directive=$4 text
    text=$(<"$template")
    text=${text//@PREFIX@/"$prefix"}
    text=${text//@RUN_DIR@/"$RUN"}
    text=${text//@LOG_DIR@/"$LOG"}
    text=${text//@HTTP_PORT@/"$HTTP_PORT"}
    text=${text//@USER_DIRECTIVE@/"$user_directive"}
    [[ ! $text =~ @[A-Z][A-Z_]*@ ]] || die "unfilled placeholder ${BASH_REMATCH[0]} in $template"
    printf '%s\n' "$text" >"$out.tmp"
    mv -f "$out.tmp" "$out"
}

# As root, the web server's workers run as nobody, and need to reach the
# sockets in $RUN (0666) through every parent directory.
nobody_reaches_run() {
    runuser -u nobody -- test -x "$RUN" 2>/dev/null
}

nginx_pid() {
    live_pid "$RUN/nginx.pid" nginx
}

apache_pid() {
    live_pid "$RUN/apache.pid" apache2
}

nginx_cmd() {
    NGINX=(nginx -p "$STACK_DIR/nginx/" -c "$STACK_DIR/nginx/nginx.conf")
    # -e (nginx 1.19.5+) keeps even start-up messages away from the
    # compiled-in error log path.
    if nginx -h 2>&1 | grep -q -- '-e filename'; then
        NGINX+=(-e "$LOG/nginx-error.log")
    fi
}

start_nginx() {
    local user_directive="" dir=$STACK_DIR/nginx pid out
    command -v nginx >/dev/null || die "nginx is not installed (deploy/deps.sh)"
    if [[ $EUID -eq 0 ]]; then
        if nobody_reaches_run; then
            user_directive="user nobody nogroup;"
        else
            # nobody cannot reach the sockets (e.g. a checkout under /root).
            user_directive="user root;"
        fi
    fi
    # As root, nginx hands its temp directories to the worker user itself.
    mkdir -p "$dir/tmp"
    render "$here/nginx/stack.conf.in" "$dir/nginx.conf" "$dir" "$user_directive"
    nginx_cmd
    out=$("${NGINX[@]}" -t -q 2>&1) || die "nginx rejected $dir/nginx.conf: $out"
    pid=$(nginx_pid)
    if [[ -n $pid ]]; then
        kill -HUP "$pid" # re-reads the freshly rendered configuration
        return 0
    fi
    "${NGINX[@]}" 2>>"$LOG/nginx-error.log" 9>&- || {
        tail_log "$LOG/nginx-error.log"
        die "nginx did not start (is port $HTTP_PORT free?)"
    }
}

start_apache() {
    local user_directive="" dir=$STACK_DIR/apache pid i out
    command -v apache2 >/dev/null || die "apache2 is not installed (deploy/deps.sh)"
    if [[ $EUID -eq 0 ]]; then
        # Apache refuses to run its workers as root.
        nobody_reaches_run ||
            die "Apache's workers run as nobody, who cannot reach $RUN: use a STACK_DIR whose parents are traversable (chmod o+x), e.g. STACK_DIR=/var/tmp/stripe-stack"
        user_directive=$'User nobody\nGroup nogroup'
    fi
    # Apache's own errors in Stripe's shape (the files production uses too).
    mkdir -p "$dir/run" "$dir/htdocs/.stack-errors"
    cp "$here/apache/errors/"*.json "$dir/htdocs/.stack-errors/"
    render "$here/apache/stack.conf.in" "$dir/httpd.conf" "$dir" "$user_directive"
    APACHE=(apache2 -d "$dir" -f "$dir/httpd.conf")
    out=$("${APACHE[@]}" -t 2>&1) || die "apache2 rejected $dir/httpd.conf: $out"
    pid=$(apache_pid)
    if [[ -n $pid ]]; then
        kill -USR1 "$pid" # graceful restart with the new configuration
        return 0
    fi
    "${APACHE[@]}" -k start 2>>"$LOG/apache-error.log" 9>&- || {
        tail_log "$LOG/apache-error.log"
        die "apache2 did not start (is port $HTTP_PORT free?)"
    }
    # The daemon writes its pid file a moment after `-k start` returns.
    for ((i = 0; i < 50; i++)); do
        [[ -n $(apache_pid) ]] && return 0
        sleep 0.1
    done
    tail_log "$LOG/apache-error.log"
    die "apache2 did not start (is port $HTTP_PORT free?)"
}

stop_web() {
    stop_pid "$RUN/nginx.pid" nginx
    stop_pid "$RUN/apache.pid" apache2
}

# --- readiness ----------------------------------------------------------------

# True when PATH answers through the web server with a Request-Id: req_
# header, i.e. the service behind it is up (the 401 for no key is fine).
answers() {
    local headers
    headers=$(curl -s -o /dev/null -D - --max-time 2 "$BASE_URL$1" 2>/dev/null || true)
    headers=${headers,,}
    [[ $headers == *"request-id: req_"* ]]
}

wait_ready() {
    local svc deadline=$((SECONDS + READY_TIMEOUT)) pending
    while :; do
        pending=()
        for svc in "${SERVICES[@]}"; do
            if [[ -z $(service_pid "$svc") ]]; then
                tail_log "$LOG/svc-$svc.log"
                die "svc-$svc exited during start-up (log: $LOG/svc-$svc.log)"
            fi
            answers "${PROBE[$svc]}" || pending+=("$svc")
        done
        [[ ${#pending[@]} -eq 0 ]] && return 0
        if ((SECONDS >= deadline)); then
            for svc in "${pending[@]}"; do
                tail_log "$LOG/svc-$svc.log"
            done
            tail_log "$LOG/$WEB-error.log"
            die "no answer within ${READY_TIMEOUT}s from: ${pending[*]/#/svc-} (probe: $BASE_URL${PROBE[${pending[0]}]})"
        fi
        sleep 0.2
    done
}

# --- commands -----------------------------------------------------------------

# Serializes start/stop/restart-db on one STACK_DIR. Every daemon is started
# with 9>&- so none keeps the lock after this script exits.
lock() {
    mkdir -p "$STACK_DIR"
    exec 9>"$STACK_DIR/.stack.lock"
    flock -w 120 9 || die "another stack.sh holds $STACK_DIR/.stack.lock"
}

cmd_start() {
    local svc
    for svc in "${SERVICES[@]}"; do
        [[ -x $BIN_DIR/svc-$svc ]] ||
            die "$BIN_DIR/svc-$svc is missing: build it first (make; make SAN=1 builds $repo/build-asan)"
    done
    lock
    mkdir -p "$RUN" "$LOG"
    # Other users' processes (nginx/Apache workers as nobody) reach the sockets.
    chmod 0755 "$STACK_DIR" "$RUN"
    start_db
    "$repo/sql/migrate.sh"
    [[ -f $KEY_FILE ]] || "$here/keygen.sh" "$KEY_FILE" >/dev/null
    STACK_DIR=$STACK_DIR BASE_URL=$BASE_URL CALLBACK_PORT=$CALLBACK_PORT "$here/fixture.sh"
    # The fixture stages the apps' signing secrets in plaintext: seal them
    # (as the service's own role) before anything serves.
    CM_KEY_FILE=$KEY_FILE PGUSER=svc_install PGAPPNAME=svc-install-seal \
        "$BIN_DIR/svc-install" --seal-signing-secrets 9>&-
    for svc in "${SERVICES[@]}"; do
        start_service "$svc"
    done
    if [[ $WEB == nginx ]]; then
        stop_pid "$RUN/apache.pid" apache2
        start_nginx
    else
        stop_pid "$RUN/nginx.pid" nginx
        start_apache
    fi
    wait_ready
    summary
}

summary() {
    local stop_cmd="make stop"
    [[ $STACK_DIR == "$repo/var" ]] || stop_cmd="STACK_DIR=$STACK_DIR $here/stack.sh stop"
    "$PYTHON" - "$DEV_JSON" "$WEB" "$LOG" "$stop_cmd" <<'EOF'
import json, sys
path, web, log, stop = sys.argv[1:]
with open(path) as f:
    dev = json.load(f)
acct, app = dev["accounts"][0], dev["apps"][0]
print(f"""
Stack is up at {dev['base_url']} ({web})
  dev fixture:  {path} (keys, users, passwords)
  account key:  {acct['secret_key']} ({acct['id']})
  app key:      {app['secret_key']} ({app['id']}, installed on {', '.join(app['installed_on'])})
  logs:         {log}/

Try it (the app acting for an installing account):
  curl {dev['base_url']}/v1/apps/secrets -u {app['secret_key']}: \\
    -H 'Stripe-Account: {acct['id']}' -d name=api_token -d payload=s3cr3t -d 'scope[type]=account'

Stop it: {stop}""")
EOF
}

cmd_stop() {
    if [[ ! -d $STACK_DIR ]]; then
        printf '%s: no stack in %s\n' "$prog" "$STACK_DIR"
        return 0
    fi
    lock
    stop_web
    stop_services
    "$here/pgctl.sh" stop "$PGDATA_DIR"
    printf '%s: stack in %s stopped\n' "$prog" "$STACK_DIR"
}

cmd_status() {
    local svc pid down=0 web
    if db_running; then
        # shellcheck disable=SC2153 # PGPORT and PGHOST come from load_db_env.
        printf 'postgresql    running (port %s, socket dir %s)\n' "$PGPORT" "$PGHOST"
    else
        printf 'postgresql    stopped\n'
        down=1
    fi
    for svc in "${SERVICES[@]}"; do
        pid=$(service_pid "$svc")
        if [[ -z $pid ]]; then
            printf '%-13s stopped\n' "svc-$svc"
            down=1
        elif answers "${PROBE[$svc]}"; then
            printf '%-13s running (pid %s, %s)\n' "svc-$svc" "$pid" "$RUN/svc-$svc.sock"
        else
            printf '%-13s running (pid %s) but not answering through the web server\n' "svc-$svc" "$pid"
            down=1
        fi
    done
    web=""
    pid=$(nginx_pid)
    [[ -n $pid ]] && web=nginx
    if [[ -z $pid ]]; then
        pid=$(apache_pid)
        [[ -n $pid ]] && web=apache2
    fi
    if [[ -n $web ]]; then
        printf '%-13s running (pid %s, %s)\n' "$web" "$pid" "$BASE_URL"
    else
        printf 'web server    stopped\n'
        down=1
    fi
    [[ -f $DEV_JSON ]] && printf 'dev.json      %s\n' "$DEV_JSON"
    return $((down ? 3 : 0))
}

cmd_restart_db() {
    lock
    "$here/pgctl.sh" restart "$PGDATA_DIR" 9>&-
    printf '%s: PostgreSQL restarted\n' "$prog"
}

# Restarts the services one at a time (they re-read the key file), leaving
# PostgreSQL and the web server up.
cmd_restart_services() {
    local svc
    lock
    load_db_env
    for svc in "${SERVICES[@]}"; do
        stop_pid "$RUN/svc-$svc.pid" "svc-$svc"
        start_service "$svc"
    done
    wait_ready
    printf '%s: services restarted\n' "$prog"
}

configure
case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-db) cmd_restart_db ;;
restart-services) cmd_restart_services ;;
*)
    printf 'usage: %s start|stop|status|restart-db|restart-services\n' "$prog" >&2
    exit 2
    ;;
esac
