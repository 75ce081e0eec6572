#!/usr/bin/env bash
# Property-based API testing of the platform against its own OpenAPI document.
#
#   scripts/schemathesis.sh [EXTRA SCHEMATHESIS ARGS...]
#
# Installs schemathesis from PyPI into a venv (<repo>/target/schemathesis/venv, idempotent),
# builds the platform (debug), starts it on a free loopback port in a temporary directory
# (SQLite, local files: the zero-configuration defaults), and runs
#
#   schemathesis run http://127.0.0.1:<port>/openapi.json
#
# with a bounded number of examples per operation and the checks "no server error" and
# "the response conforms to the documented schema" (status code, content type and body).
# Exits non-zero when schemathesis reports a failure or the server cannot be started.
#
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES   examples per operation (default 20)
#   SCHEMATHESIS_CHECKS         checks (default: not_a_server_error,response_schema_conformance,
#                               status_code_conformance,content_type_conformance)
#   SCHEMATHESIS_SEED           a fixed seed (default 1, so CI runs are reproducible)
#   SCHEMATHESIS_REPORT_DIR     where the JUnit report goes (default target/schemathesis/report)
#   PLATFORM_BIN                use this binary instead of building one
#   CARGO_TARGET_DIR            honoured for the build (default <repo>/target)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/target/schemathesis"
VENV="$STATE/venv"
SCHEMATHESIS_VERSION="4.32.5"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
CHECKS="${SCHEMATHESIS_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance}"
SEED="${SCHEMATHESIS_SEED:-1}"
REPORT_DIR="${SCHEMATHESIS_REPORT_DIR:-$STATE/report}"

log() { echo "schemathesis.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- install ---------------------------------------------------------------------------
mkdir -p "$STATE"
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating venv $VENV"
    python3 -m venv "$VENV"
fi
if [[ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" != *"$SCHEMATHESIS_VERSION"* ]]; then
    log "pip install schemathesis==$SCHEMATHESIS_VERSION"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi

# --- build -----------------------------------------------------------------------------
if [[ -z "${PLATFORM_BIN:-}" ]]; then
    log "cargo build -p platform (debug)"
    (cd "$ROOT" && cargo build -q -p platform)
    PLATFORM_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/platform"
fi
[[ -x "$PLATFORM_BIN" ]] || die "no platform binary at $PLATFORM_BIN"

# --- start the platform ----------------------------------------------------------------
WORK="$(mktemp -d -t baas-schemathesis.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"

log "starting $PLATFORM_BIN on $BASE (data in $WORK)"
(
    cd "$WORK"
    # Rate limits high: schemathesis sends many requests from one address.
    exec env BAAS_BIND="127.0.0.1:$PORT" BAAS_LOG="${BAAS_LOG:-warn}" \
        BAAS_RATE_LIMIT_RPS=100000 BAAS_RATE_LIMIT_BURST=100000 \
        "$PLATFORM_BIN" >"$WORK/platform.log" 2>&1
) &
SERVER_PID=$!

for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 40 "$WORK/platform.log" >&2; die "the platform exited"; }
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE/healthz" || { tail -n 40 "$WORK/platform.log" >&2; die "the platform did not answer /healthz in 60 s"; }

# --- a credential, when the platform has identity routes --------------------------------
# Without one, every protected operation answers 401 and its success paths go untested.
AUTH_ARGS=()
signup="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/auth/signup" \
    -H 'Content-Type: application/json' \
    -d '{"tenant":"schemathesis","email":"admin@schemathesis.local","password":"schemathesis-pass-1"}' || true)"
if [[ "$signup" == 201 ]]; then
    token="$(curl -fsS -X POST "$BASE/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"grant_type":"password","tenant":"schemathesis","email":"admin@schemathesis.local","password":"schemathesis-pass-1"}' |
        "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" ||
        die "signup worked but the password grant did not"
    AUTH_ARGS=(-H "Authorization: Bearer $token")
    log "testing as the admin of tenant 'schemathesis' (bearer token)"
else
    log "no identity routes (signup answered $signup): testing anonymously"
fi

# --- run -------------------------------------------------------------------------------
mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"
log "schemathesis run $BASE/openapi.json (max $MAX_EXAMPLES examples per operation; checks $CHECKS)"
status=0
# From the state directory: schemathesis keeps a .schemathesis/ cache in its working directory.
cd "$STATE"
"$VENV/bin/schemathesis" run "$BASE/openapi.json" \
    --checks "$CHECKS" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --no-color \
    --report junit --report-dir "$REPORT_DIR" \
    --generation-database none \
    "${AUTH_ARGS[@]}" "$@" || status=$?

if ((status != 0)); then
    log "FAILED (exit $status); the last lines of the platform's log:"
    tail -n 20 "$WORK/platform.log" >&2 || true
else
    log "passed"
fi
exit "$status"
