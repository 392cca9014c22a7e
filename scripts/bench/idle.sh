#!/usr/bin/env bash
# Idle cost and wake-up (BENCHMARKS.md): starts an idle `serve` (no workers)
# and an idle `worker`, reads their CPU time from /proc over IDLE_SECONDS, then
# enqueues single-tenant runs from another process while the worker idles and
# reports each run's enqueue → start latency (its created_at → started_at).
#   scripts/bench/idle.sh           PostgreSQL (BENCH_PG) and SQLite
# Environment: IDLE_SECONDS (20), WAKES (10), BACKENDS ("pg sqlite"), BIN.
. "$(dirname "$0")/lib.sh"
IDLE_SECONDS=${IDLE_SECONDS:-20}
WAKES=${WAKES:-10}
BACKENDS=${BACKENDS:-pg sqlite}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=$PWD/target/release/tenantatlas
fi
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # backend
  "$BIN" demo seed --tenants 3 --findings-per-tenant 0 >/dev/null
  "$BIN" serve --bind 127.0.0.1:0 --workers 0 >"$WORK/serve.log" 2>&1 &
  local serve=$!
  PIDS+=("$serve")
  "$BIN" worker --concurrency 2 >"$WORK/worker.log" 2>&1 &
  local worker=$!
  PIDS+=("$worker")
  sleep 3 # start-up done
  local s0 w0 hz
  hz=$(getconf CLK_TCK)
  s0=$(ticks "$serve")
  w0=$(ticks "$worker")
  sleep "$IDLE_SECONDS"
  echo "$1 idle serve: $(python3 -c "print(round(100*($(ticks "$serve")-$s0)/$hz/$IDLE_SECONDS,2))") % of a core over ${IDLE_SECONDS} s"
  echo "$1 idle worker (concurrency 2): $(python3 -c "print(round(100*($(ticks "$worker")-$w0)/$hz/$IDLE_SECONDS,2))") % of a core over ${IDLE_SECONDS} s"
  local lat=()
  for i in $(seq "$WAKES"); do
    sleep 1.3 # the worker is idle again
    id=$("$BIN" runbooks run findings.backfill-lifecycle --tenant demo-00001 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
    for _ in $(seq 100); do
      "$BIN" runs show "$id" --json >"$WORK/run.json"
      python3 -c "import json,sys; sys.exit(0 if json.load(open('$WORK/run.json'))['status']=='completed' else 1)" && break
      sleep 0.05
    done
    lat+=("$(python3 -c "
import json; from datetime import datetime
r=json.load(open('$WORK/run.json')); p=lambda s: datetime.fromisoformat(s.replace('Z','+00:00'))
print(round((p(r['started_at'])-p(r['created_at'])).total_seconds()*1000,1))")")
  done
  echo "$1 enqueue → start (ms, $WAKES runs while the worker idles): ${lat[*]}"
  python3 -c "import statistics as s; v=[float(x) for x in '${lat[*]}'.split()]; print('$1 enqueue → start: median', s.median(v), 'ms, max', max(v), 'ms')"
  kill "$serve" "$worker"
  wait "$serve" "$worker" 2>/dev/null || true
  PIDS=()
}

if [[ " $BACKENDS " == *" pg "* ]] && psql "$PG/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ta_bench_idle"
  psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_idle"
  DATABASE_URL=$PG/ta_bench_idle measure pg
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ta_bench_idle"
fi
if [[ " $BACKENDS " == *" sqlite "* ]]; then
  DATABASE_URL="sqlite://$WORK/idle.db" measure sqlite
fi
