#!/usr/bin/env bash
# baas-queue's throughput benchmark beside its baselines (issue 6, item 8; see
# bench/README-queue.md): runs `cargo bench -p baas-queue --bench throughput` (baas and
# the raw sqlx / lapin limits) and the apalis baseline (bench/apalis, its own workspace)
# alternately, ROUNDS times each, then prints the median of every figure and the ratios
# the issue sets targets for.
#
#   eval "$(scripts/services.sh env)"   # Postgres and RabbitMQ rows need the services
#   bench/queue.sh                      # ROUNDS=3 by default
#
# Environment: ROUNDS (3); CARGO_TARGET_DIR (the main workspace's target dir);
# APALIS_TARGET_DIR (the apalis workspace's, default bench/apalis/target: it links
# another libsqlite3-sys, so it never shares ours); OUT (where the raw outputs go, default
# a temporary directory); and the benches' own knobs (BENCH_JOBS, BENCH_BATCH,
# BENCH_BACKENDS, BENCH_MODES, ...), passed through.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
out=${OUT:-$(mktemp -d)}
apalis_target=${APALIS_TARGET_DIR:-$root/bench/apalis/target}
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
mkdir -p "$out"

echo "== building (release) =="
(cd "$root" && cargo bench -p baas-queue --bench throughput --no-run)
(cd "$root/bench/apalis" && CARGO_TARGET_DIR=$apalis_target cargo build --release)

for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds: baas-queue (baas, raw) =="
  (cd "$root" && cargo bench -p baas-queue --bench throughput) \
    >"$out/baas-$round.txt" 2>"$out/baas-$round.err" || {
      echo "the baas bench failed; see $out/baas-$round.err" >&2
      exit 1
    }
  cat "$out/baas-$round.txt"
  grep -h FAILED "$out/baas-$round.err" >&2 || true
  grep -h SKIPPED "$out/baas-$round.err" >&2 || true
  echo "== round $round/$rounds: apalis =="
  (cd "$root/bench/apalis" && CARGO_TARGET_DIR=$apalis_target cargo run --quiet --release) \
    >"$out/apalis-$round.txt" 2>"$out/apalis-$round.err" || {
      echo "the apalis bench failed; see $out/apalis-$round.err" >&2
      exit 1
    }
  cat "$out/apalis-$round.txt"
done

cat "$out"/baas-*.txt "$out"/apalis-*.txt | grep '^ROW ' >"$out/rows.txt"
echo "== medians of $rounds rounds (raw outputs in $out) =="
awk -v rounds="$rounds" '
  function median(list,    n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] + 0 > v[j] + 0; j--) {
      t = v[j]; v[j] = v[j-1]; v[j-1] = t
    }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  {
    key = $2 " " $3 " " $4
    if (!(key in seen)) { seen[key] = 1; order[++keys] = key }
    jobs[key] = $5; rate[key] = rate[key] " " $6; p50[key] = p50[key] " " $7; p99[key] = p99[key] " " $8
  }
  function ratio(a, b, target, pct,    line) {
    if (!(a in r) || !(b in r)) { printf "  %-38s n/a\n", a " / " b; return }
    if (pct) line = sprintf("%.0f%%", 100 * r[a] / r[b]); else line = sprintf("%.2fx", r[a] / r[b])
    printf "  %-38s %8s   (target %s)\n", a " / " b, line, target
  }
  END {
    printf "%-9s %-8s %-7s %7s %11s %9s %9s\n", "backend", "mode", "impl", "jobs", "jobs/s", "p50 ms", "p99 ms"
    for (k = 1; k <= keys; k++) {
      key = order[k]; split(key, f, " ")
      r[key] = median(rate[key])
      printf "%-9s %-8s %-7s %7d %11.0f %9.2f %9.2f\n", f[1], f[2], f[3], jobs[key], r[key], median(p50[key]), median(p99[key])
    }
    print ""
    print "ratios (medians):"
    ratio("sqlite single baas", "sqlite single apalis", ">= 2x", 0)
    ratio("sqlite batched baas", "sqlite batched apalis", ">= 2x", 0)
    ratio("sqlite single baas", "sqlite single raw", ">= 60%", 1)
    ratio("sqlite batched baas", "sqlite batched raw", ">= 60%", 1)
    ratio("sqlite batched baas", "sqlite batched raw1", "- (raw1: the same statement count)", 1)
    ratio("postgres single baas", "postgres single raw", "-", 1)
    ratio("postgres batched baas", "postgres batched raw", "-", 1)
    ratio("postgres batched baas", "postgres batched raw1", "- (raw1: the same statement count)", 1)
    ratio("amqp single baas", "amqp single raw", ">= 80%", 1)
    ratio("amqp batched baas", "amqp batched raw", ">= 80%", 1)
    print ""
    print "absolute targets (medians):"
    if ("sqlite batched baas" in r) printf "  %-38s %8.0f   (target >= 20000 jobs/s)\n", "sqlite batched baas", r["sqlite batched baas"]
    if ("postgres single baas" in r) printf "  %-38s %8.0f   (target >= 5000 jobs/s)\n", "postgres single baas", r["postgres single baas"]
    if ("postgres batched baas" in r) printf "  %-38s %8.0f   (target >= 5000 jobs/s)\n", "postgres batched baas", r["postgres batched baas"]
  }
' "$out/rows.txt"
