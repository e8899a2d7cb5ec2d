#!/usr/bin/env bash
# Local infrastructure for yiciban: a Postgres and a NATS server with JetStream.
#
#   deploy/local/infra.sh up      use what answers at $DATABASE_URL / $NATS_URL,
#                                 start a project-local server for what does not
#   deploy/local/infra.sh down    stop only the servers this script started
#   deploy/local/infra.sh status  say on stdout what answers where (exit 1 if something does not)
#   deploy/local/infra.sh tools   make sure the programs `make faults` runs itself are installed
#                                 (Postgres' initdb/pg_ctl, nats-server; from Debian's packages if
#                                 missing) and print PG_BIN=, PG_USER=, NATS_SERVER= on stdout
#
# Progress goes to stderr, prefixed "infra:". On success `up` prints exactly two
# lines on stdout, DATABASE_URL=<url> and NATS_URL=<url>, the addresses to use.
# Data and logs of the servers it starts live in .run/ at the repo root
# (git-ignored): .run/pg (cluster), .run/pg.log, .run/nats (JetStream store),
# .run/nats.log, .run/nats.pid.
set -euo pipefail

# runuser, useradd and Debian's nats-server live in sbin, which CI shells may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

cd "$(dirname "$0")/../.."
ROOT="$(pwd -P)"
RUN="$ROOT/.run"
PGDATA_DIR="$RUN/pg"
PG_LOG="$RUN/pg.log"
NATS_STORE="$RUN/nats"
NATS_LOG="$RUN/nats.log"
NATS_PID="$RUN/nats.pid"
WAIT_SECONDS=30

log() { printf 'infra: %s\n' "$*" >&2; }
out() { printf 'infra: %s\n' "$*"; } # the output of `status`, on stdout
die() { printf 'infra: error: %s\n' "$*" >&2; exit 1; }

# --- URL parsing -------------------------------------------------------------

# Sets URL_USER, URL_HOST, URL_PORT, URL_DB from a URL like
# scheme://[user[:password]@]host[:port][/db][?params]; the first host of a
# comma-separated list; IPv6 hosts in brackets.
parse_url() {
    local url="$1" default_port="$2" rest authority hostport userinfo
    rest="${url#*://}"
    [[ "$rest" != "$url" ]] || die "not a URL (no scheme://): $url"
    rest="${rest%%\?*}"
    rest="${rest%%#*}"
    authority="${rest%%/*}"
    URL_DB=""
    [[ "$rest" == */* ]] && URL_DB="${rest#*/}"
    URL_USER=""
    hostport="$authority"
    if [[ "$authority" == *@* ]]; then
        userinfo="${authority%@*}"
        hostport="${authority##*@}"
        URL_USER="${userinfo%%:*}"
    fi
    hostport="${hostport%%,*}"
    if [[ "$hostport" == \[* ]]; then
        URL_HOST="${hostport#[}"
        URL_HOST="${URL_HOST%%]*}"
        URL_PORT="${hostport##*]}"
        URL_PORT="${URL_PORT#:}"
    elif [[ "$hostport" == *:* ]]; then
        URL_HOST="${hostport%%:*}"
        URL_PORT="${hostport#*:}"
    else
        URL_HOST="$hostport"
        URL_PORT=""
    fi
    [[ -n "$URL_HOST" ]] || URL_HOST="localhost"
    [[ -n "$URL_PORT" ]] || URL_PORT="$default_port"
    if ! [[ "$URL_PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$URL_PORT < 1 || 10#$URL_PORT > 65535)); then
        die "bad port '$URL_PORT' in $(redact "$url")"
    fi
    URL_PORT=$((10#$URL_PORT))
}

# The URL with any password replaced by ***, for messages.
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

is_local_host() {
    case "$1" in
        localhost | ::1 | 127.*) return 0 ;;
        *) return 1 ;;
    esac
}

# --- small helpers -----------------------------------------------------------

# shellcheck disable=SC2016 # $0/$1 expand in the child bash, on purpose
tcp_open() { # host port
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

APT_HINT=" or point the URL at a running server"
# shellcheck source=deploy/local/apt.sh
source deploy/local/apt.sh # the working directory is the repository (cd above)

pid_alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

lock() {
    mkdir -p "$RUN"
    if command -v flock >/dev/null; then
        # The servers started below must not inherit fd 9 (they close it: 9>&-).
        exec 9>"$RUN/.lock"
        if ! flock -n 9; then
            log "waiting for another infra.sh to finish (lock $RUN/.lock)"
            flock -w 120 9 || die "another infra.sh still holds $RUN/.lock after 120s"
        fi
    fi
}

# --- Postgres ----------------------------------------------------------------

PG_BIN=""   # directory holding initdb, pg_ctl, postgres
PG_USER=""  # system user the project cluster runs as (when we are root)

find_pg_bin() {
    local initdb="" candidate
    if initdb="$(command -v initdb 2>/dev/null)"; then
        initdb="$(readlink -f "$initdb")"
    else
        # The newest installed version.
        initdb="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
        [[ -x "$initdb" ]] || initdb=""
    fi
    # An existing cluster needs the major version that created it.
    if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
        candidate="/usr/lib/postgresql/$(cat "$PGDATA_DIR/PG_VERSION")/bin/initdb"
        [[ -x "$candidate" ]] && initdb="$candidate"
    fi
    [[ -n "$initdb" && -x "$(dirname "$initdb")/pg_ctl" ]] || return 1
    PG_BIN="$(dirname "$initdb")"
}

pg_answers() { # url host port
    local isready
    if isready="$(command -v pg_isready 2>/dev/null)" || { [[ -n "$PG_BIN" && -x "$PG_BIN/pg_isready" ]] && isready="$PG_BIN/pg_isready"; }; then
        "$isready" -q -t 3 -d "$1" >/dev/null 2>&1
    else
        tcp_open "$2" "$3"
    fi
}

# Runs a Postgres server program as the cluster's user (they refuse to run as root).
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

choose_pg_user() {
    [[ $EUID -eq 0 ]] || { PG_USER="$(id -un)"; return; }
    if [[ -f "$PGDATA_DIR/PG_VERSION" ]]; then
        PG_USER="$(stat -c %U "$PGDATA_DIR")"
        [[ "$PG_USER" != root && "$PG_USER" != UNKNOWN ]] && return
    fi
    if id -u postgres >/dev/null 2>&1; then
        PG_USER=postgres
    else
        if ! id -u yiciban-pg >/dev/null 2>&1; then
            log "creating system user yiciban-pg to run the project Postgres (initdb/pg_ctl refuse root)"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin yiciban-pg
        fi
        PG_USER=yiciban-pg
    fi
}

# Fails with a clear message if PG_USER cannot reach the repo (e.g. a clone under /root).
check_pg_user_access() {
    [[ $EUID -eq 0 ]] || return 0
    local dir="" part parts
    runuser -u "$PG_USER" -- test -x "$RUN" && return 0
    # Walk down from / to name the first directory the user cannot enter.
    IFS=/ read -ra parts <<<"${RUN#/}"
    for part in "${parts[@]}"; do
        dir+="/$part"
        if ! runuser -u "$PG_USER" -- test -x "$dir"; then
            die "user $PG_USER cannot enter $dir, so it cannot run a cluster in $PGDATA_DIR; run 'chmod o+x $dir' or set DATABASE_URL to a running Postgres"
        fi
    done
    die "user $PG_USER cannot enter $RUN"
}

# Port the project cluster's postmaster listens on (from postmaster.pid), or empty.
pg_running_port() {
    [[ -f "$PGDATA_DIR/postmaster.pid" ]] || return 0
    local pid
    pid="$(sed -n 1p "$PGDATA_DIR/postmaster.pid")"
    # A stale file may name a pid reused by another program: check it is a postgres.
    if pid_alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]]; then
        sed -n 4p "$PGDATA_DIR/postmaster.pid"
    fi
    return 0
}

pg_up() {
    parse_url "$DATABASE_URL" 5432
    local host="$URL_HOST" port="$URL_PORT" user="${URL_USER:-postgres}" db="${URL_DB:-postgres}"
    local shown running_port locale sockdir i
    shown="$(redact "$DATABASE_URL")"
    find_pg_bin || true

    if pg_answers "$DATABASE_URL" "$host" "$port"; then
        running_port="$(pg_running_port)"
        if [[ "$running_port" == "$port" ]] && is_local_host "$host" && [[ -n "$PG_BIN" ]]; then
            log "using the Postgres at $shown (project-local, already running from $PGDATA_DIR)"
            pg_ensure_db "$host" "$port" "$user" "$db"
        else
            log "using the Postgres at $shown"
        fi
        return 0
    fi
    log "no Postgres answers at $shown"
    is_local_host "$host" || die "$host is not a local address, so infra.sh will not start a Postgres for it; start it or fix DATABASE_URL"

    running_port="$(pg_running_port)"
    if [[ -n "$running_port" && "$running_port" != "$port" ]]; then
        die "the project Postgres in $PGDATA_DIR is already running on port $running_port, not $port; run 'deploy/local/infra.sh down' first or use port $running_port"
    fi
    if [[ -z "$running_port" ]] && tcp_open "$host" "$port"; then
        die "something listens on $host:$port but it is not an accepting Postgres; free the port or change DATABASE_URL"
    fi

    if [[ -z "$PG_BIN" ]]; then
        log "initdb not found in PATH or /usr/lib/postgresql/*/bin"
        apt_install postgresql
        find_pg_bin || die "initdb still not found after installing postgresql"
        # On a machine with systemd the package starts its own cluster; use it if it answers.
        if pg_answers "$DATABASE_URL" "$host" "$port"; then
            log "using the Postgres at $shown (started by the postgresql package)"
            log "note: Debian's own cluster asks for a password over TCP; if connecting fails, give postgres a password or free the port"
            return 0
        fi
    fi
    log "Postgres binaries: $PG_BIN ($("$PG_BIN/postgres" --version))"

    mkdir -p "$RUN"
    chmod 755 "$RUN"
    choose_pg_user
    if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
        if [[ -d "$PGDATA_DIR" ]] && [[ -n "$(ls -A "$PGDATA_DIR")" ]]; then
            die "$PGDATA_DIR exists but holds no cluster; remove it and retry"
        fi
        mkdir -p "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        [[ $EUID -ne 0 ]] || chown "$PG_USER:" "$PGDATA_DIR"
        check_pg_user_access
        locale=C
        if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi
        log "creating a Postgres cluster in $PGDATA_DIR (superuser $user, trust auth, UTF8, locale $locale, run as $PG_USER)"
        as_pg_user "$PG_BIN/initdb" -D "$PGDATA_DIR" -U "$user" --auth=trust -E UTF8 --locale="$locale" >>"$PG_LOG" 2>&1 \
            || { tail -n 20 "$PG_LOG" >&2; die "initdb failed; see $PG_LOG"; }
        cat >>"$PGDATA_DIR/postgresql.conf" <<'EOF'

# --- added by deploy/local/infra.sh (port, listen_addresses and
# --- unix_socket_directories are passed on the command line at each start)
max_connections = 300
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
    else
        check_pg_user_access
    fi
    touch "$PG_LOG"
    [[ $EUID -ne 0 ]] || chown "$PG_USER:" "$PG_LOG"

    if [[ -z "$running_port" ]]; then
        # A unix socket path must fit in 107 bytes; without one, TCP still works.
        sockdir="$PGDATA_DIR"
        if (( ${#sockdir} + 16 > 107 )); then
            log "path $PGDATA_DIR is too long for a unix socket; listening on TCP only"
            sockdir=""
        fi
        log "starting the project Postgres on $host:$port as $PG_USER (data $PGDATA_DIR, log $PG_LOG)"
        as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$WAIT_SECONDS" \
            -o "-p $port -c listen_addresses='$host' -c unix_socket_directories='$sockdir'" start >&2 9>&- \
            || { tail -n 20 "$PG_LOG" >&2; die "pg_ctl start failed; see $PG_LOG"; }
    else
        log "the project Postgres in $PGDATA_DIR is running on port $port but not answering yet; waiting"
    fi

    for ((i = 0; i < WAIT_SECONDS; i++)); do
        pg_answers "$DATABASE_URL" "$host" "$port" && break
        sleep 1
    done
    pg_answers "$DATABASE_URL" "$host" "$port" \
        || { tail -n 20 "$PG_LOG" >&2; die "the project Postgres does not answer at $shown after ${WAIT_SECONDS}s; see $PG_LOG"; }

    pg_ensure_db "$host" "$port" "$user" "$db"
    log "started the project Postgres; it answers at $shown"
}

# Creates the URL's database in the project cluster if it is missing.
pg_ensure_db() { # host port user db
    [[ "$4" != postgres ]] || return 0
    if [[ "$("$PG_BIN/psql" -h "$1" -p "$2" -U "$3" -d postgres -XtAc \
            "select 1 from pg_database where datname = '${4//\'/\'\'}'")" != 1 ]]; then
        log "creating database $4 in the project Postgres"
        "$PG_BIN/createdb" -h "$1" -p "$2" -U "$3" "$4"
    fi
}

pg_down() {
    local pid
    if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
        log "no project Postgres ($PGDATA_DIR holds no cluster); nothing to stop"
        return 0
    fi
    if [[ -z "$(pg_running_port)" ]]; then
        log "the project Postgres in $PGDATA_DIR is not running"
        return 0
    fi
    pid="$(sed -n 1p "$PGDATA_DIR/postmaster.pid")"
    if find_pg_bin; then
        choose_pg_user
        log "stopping the project Postgres (pid $pid, $PGDATA_DIR)"
        as_pg_user "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t "$WAIT_SECONDS" stop >&2
    else
        log "pg_ctl not found; sending SIGINT (fast shutdown) to the project postmaster, pid $pid"
        kill -INT "$pid"
        local i
        for ((i = 0; i < WAIT_SECONDS; i++)); do pid_alive "$pid" || break; sleep 1; done
        pid_alive "$pid" && die "the project postmaster (pid $pid) did not stop"
    fi
    log "stopped the project Postgres"
}

# --- NATS --------------------------------------------------------------------

# 0: a NATS server with JetStream answers; 1: nothing answers;
# 2: something answers but is not NATS; 3: NATS without JetStream.
nats_probe() { # host port
    local line
    # shellcheck disable=SC2016 # $0/$1 expand in the child bash, on purpose
    line="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; IFS= read -r -t 2 l <&3; printf %s "$l"' "$1" "$2" 2>/dev/null)" || return 1
    [[ "$line" == INFO* ]] || return 2
    [[ "$line" == *'"jetstream":true'* ]] || return 3
    return 0
}

# Sets NATS_BIN to nats-server's path, installing the Debian package when it
# is missing (then NATS_INSTALLED=1).
NATS_BIN=""
NATS_INSTALLED=""
find_nats_bin() {
    NATS_BIN="$(command -v nats-server || true)"
    [[ -z "$NATS_BIN" ]] || return 0
    log "nats-server not found"
    apt_install nats-server
    NATS_BIN="$(command -v nats-server || true)"
    [[ -n "$NATS_BIN" ]] || die "nats-server still not found after installing nats-server"
    NATS_INSTALLED=1
}

nats_pid_alive() { # prints the pid if .run/nats.pid names a live nats-server
    local pid
    [[ -f "$NATS_PID" ]] || return 1
    pid="$(tr -dc 0-9 <"$NATS_PID")"
    pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q nats-server || return 1
    printf '%s\n' "$pid"
}

nats_up() {
    parse_url "${NATS_URL%%,*}" 4222
    local host="$URL_HOST" port="$URL_PORT" shown rc=0 bin pid i
    shown="$(redact "$NATS_URL")"

    nats_probe "$host" "$port" || rc=$?
    case "$rc" in
        0)
            if pid="$(nats_pid_alive)"; then
                log "using the NATS at $shown (JetStream on; project-local, pid $pid)"
            else
                log "using the NATS at $shown (JetStream on)"
            fi
            return 0 ;;
        2) die "something listens on $host:$port but it does not speak NATS; free the port or change NATS_URL" ;;
        3) die "the NATS at $shown runs without JetStream; restart it with -js or change NATS_URL" ;;
    esac
    log "no NATS answers at $shown"
    is_local_host "$host" || die "$host is not a local address, so infra.sh will not start a NATS for it; start it or fix NATS_URL"

    if pid="$(nats_pid_alive)"; then
        die "the project nats-server (pid $pid) runs but does not answer at $host:$port; see $NATS_LOG, or run 'deploy/local/infra.sh down' and retry"
    fi
    if [[ -f "$NATS_PID" ]]; then
        log "removing stale $NATS_PID"
        rm -f "$NATS_PID"
    fi

    find_nats_bin
    bin="$NATS_BIN"
    if [[ -n "$NATS_INSTALLED" ]]; then
        rc=0
        nats_probe "$host" "$port" || rc=$?
        if [[ "$rc" == 0 ]]; then
            log "using the NATS at $shown (JetStream on; started by the nats-server package)"
            return 0
        fi
    fi

    mkdir -p "$NATS_STORE"
    log "starting the project nats-server ($("$bin" --version 2>&1 | head -n 1)) with JetStream on $host:$port (store $NATS_STORE, log $NATS_LOG)"
    setsid "$bin" -js -a "$host" -p "$port" -sd "$NATS_STORE" >>"$NATS_LOG" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$NATS_PID"

    for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
        pid_alive "$pid" || break
        rc=0
        nats_probe "$host" "$port" || rc=$?
        [[ "$rc" == 0 ]] && break
        sleep 0.5
    done
    if ! pid_alive "$pid"; then
        rm -f "$NATS_PID"
        tail -n 20 "$NATS_LOG" >&2
        die "nats-server exited during startup; see $NATS_LOG"
    fi
    if [[ "$rc" != 0 ]]; then
        tail -n 20 "$NATS_LOG" >&2
        die "the project nats-server (pid $pid) does not answer with JetStream at $host:$port after ${WAIT_SECONDS}s; see $NATS_LOG"
    fi
    log "started the project nats-server (pid $pid); it answers at $shown with JetStream on"
}

nats_down() {
    local pid i
    if ! pid="$(nats_pid_alive)"; then
        if [[ -f "$NATS_PID" ]]; then
            log "removing stale $NATS_PID (no such nats-server running)"
            rm -f "$NATS_PID"
        else
            log "no project nats-server ($NATS_PID absent); nothing to stop"
        fi
        return 0
    fi
    log "stopping the project nats-server (pid $pid)"
    kill -TERM "$pid"
    for ((i = 0; i < WAIT_SECONDS; i++)); do pid_alive "$pid" || break; sleep 0.5; done
    if pid_alive "$pid"; then
        log "nats-server (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid"
    fi
    rm -f "$NATS_PID"
    log "stopped the project nats-server"
}

# --- commands ----------------------------------------------------------------

cmd_status() {
    local ok=0 rc=0 port pid where
    parse_url "$DATABASE_URL" 5432
    find_pg_bin || true
    port="$(pg_running_port)"
    where="project cluster in $PGDATA_DIR: ${port:+running on port $port}"
    [[ -n "$port" ]] || where+="$([[ -f "$PGDATA_DIR/PG_VERSION" ]] && echo stopped || echo absent)"
    if pg_answers "$DATABASE_URL" "$URL_HOST" "$URL_PORT"; then
        out "Postgres: answers at $(redact "$DATABASE_URL") ($where)"
    else
        out "Postgres: does NOT answer at $(redact "$DATABASE_URL") ($where)"
        ok=1
    fi
    parse_url "${NATS_URL%%,*}" 4222
    where="project nats-server: $(pid="$(nats_pid_alive)" && echo "running, pid $pid" || echo "not running")"
    nats_probe "$URL_HOST" "$URL_PORT" || rc=$?
    case "$rc" in
        0) out "NATS: answers at $(redact "$NATS_URL") with JetStream ($where)" ;;
        1) out "NATS: does NOT answer at $(redact "$NATS_URL") ($where)"; ok=1 ;;
        2) out "NATS: something at $URL_HOST:$URL_PORT answers but is not NATS ($where)"; ok=1 ;;
        3) out "NATS: answers at $(redact "$NATS_URL") but WITHOUT JetStream ($where)"; ok=1 ;;
    esac
    return "$ok"
}

# The fault tests (`make faults`) start, kill and restart a Postgres cluster
# and a nats-server of their own, never the ones `up` uses: they need the
# programs, not a running server.
cmd_tools() {
    if ! find_pg_bin; then
        log "initdb not found in PATH or /usr/lib/postgresql/*/bin"
        apt_install postgresql
        find_pg_bin || die "initdb still not found after installing postgresql"
    fi
    choose_pg_user
    find_nats_bin
    printf 'PG_BIN=%s\nPG_USER=%s\nNATS_SERVER=%s\n' "$PG_BIN" "$PG_USER" "$NATS_BIN"
}

usage() {
    echo "usage: $0 up|down|status|tools" >&2
    exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
    up)
        lock
        pg_up
        nats_up
        printf 'DATABASE_URL=%s\nNATS_URL=%s\n' "$DATABASE_URL" "$NATS_URL"
        ;;
    down)
        lock
        nats_down
        pg_down
        ;;
    status) cmd_status ;;
    tools)
        lock
        cmd_tools
        ;;
    *) usage ;;
esac
