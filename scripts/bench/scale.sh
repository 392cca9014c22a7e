#!/usr/bin/env bash
# The scale run of BENCHMARKS.md: PostgreSQL, TENANTS demo tenants with FINDINGS
# legacy findings each, one `serve` and WORKERS `worker` processes (release
# build). It starts the all-tenants lifecycle backfill and, while it goes,
# times the View run page and GET /system/api/runs/{id} (signed in, one request
# at a time); at the end it checks the counts exactly and reports tenants/s,
# findings/s, the database's commits and rows, and the CPU of each side.
#   scripts/bench/scale.sh                      three workers
#   WORKER_SETS="1 3" scripts/bench/scale.sh    one run per worker count, each on a fresh copy
# Environment: TENANTS (10000), FINDINGS (50), WORKER_SETS (3), CONCURRENCY (2, per
# worker), CONNECTIONS (10, per process), BENCH_PG (postgres://postgres@127.0.0.1:5432),
# PORT (18080), SKIP_BUILD (1: no build), BIN (target/release/tenantatlas),
# KEEP_PROBE (a path prefix: keep each run's probe samples as PREFIX.WORKERS.json).
. "$(dirname "$0")/lib.sh"
TENANTS=${TENANTS:-10000}
FINDINGS=${FINDINGS:-50}
WORKER_SETS=${WORKER_SETS:-3}
CONCURRENCY=${CONCURRENCY:-2}
CONNECTIONS=${CONNECTIONS:-10}
PORT=${PORT:-18080}
BASE=http://127.0.0.1:$PORT
EMAIL=scale@ops.test
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet
BIN=${BIN:-$PWD/target/release/tenantatlas}
WORK=$(mktemp -d)
PIDS=()
stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_all
  for db in ta_scale ta_scale_seed; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export TENANTATLAS_DB_CONNECTIONS=$CONNECTIONS RUST_LOG=${RUST_LOG:-warn}
sql() { psql "$PG/$1" -qAtc "$2"; }
# "pid ticks" of CPU (user+system, 1/100 s) used so far by each process given.
snap() { for p in "$@"; do [ -r "/proc/$p/stat" ] && echo "$p $(awk '{print $14+$15}' "/proc/$p/stat")"; done; true; }
# The database server's processes serving ta_scale.
pg_pids() { sql ta_scale "select pid from pg_stat_activity where datname = 'ta_scale' and pid <> pg_backend_pid()"; }
export PGOPTIONS='-c client_min_messages=warning'

machine
sql postgres "select version()" | cut -d, -f1
for db in ta_scale ta_scale_seed; do sql postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
sql postgres "CREATE DATABASE ta_scale_seed"
export DATABASE_URL=$PG/ta_scale_seed
start=$(date +%s.%N)
"$BIN" demo seed --tenants "$TENANTS" --findings-per-tenant "$FINDINGS" --json >"$WORK/seed.json"
echo "seed: $(tr -d ' \n' <"$WORK/seed.json") in $(python3 -c "print(round($(date +%s.%N)-$start,1))") s"
head -c 18 /dev/urandom | base64 >"$WORK/password"
"$BIN" platform-user create --email "$EMAIL" --name "Scale probe" --all-capabilities --password-stdin \
  <"$WORK/password" >/dev/null
sql ta_scale_seed "VACUUM ANALYZE"

for workers in $WORKER_SETS; do
  sql postgres "DROP DATABASE IF EXISTS ta_scale WITH (FORCE)"
  sql postgres "CREATE DATABASE ta_scale TEMPLATE ta_scale_seed"
  export DATABASE_URL=$PG/ta_scale
  "$BIN" runbooks preflight findings.backfill-lifecycle --all-tenants --json >"$WORK/before.json"
  "$BIN" serve --bind "127.0.0.1:$PORT" --workers 0 >"$WORK/serve.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 200); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  for _ in $(seq 1 "$workers"); do
    "$BIN" worker --concurrency "$CONCURRENCY" >>"$WORK/worker.log" 2>&1 &
    PIDS+=($!)
  done
  sleep 1 # the workers have opened their pools and are polling
  stats() { sql ta_scale "select xact_commit, tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = 'ta_scale'"; }
  before_db=$(stats); snap $(pg_pids) >"$WORK/pg0"; snap "${PIDS[@]}" >"$WORK/ta0"
  rm -f "$WORK/run.json"
  python3 scripts/bench/scale_probe.py "$BASE" "$WORK/run.json" "$EMAIL" "$WORK/password" >"$WORK/probe.json" &
  probe=$!
  sleep 2 # the probe has signed in
  "$BIN" runbooks run findings.backfill-lifecycle --all-tenants --json >"$WORK/started.json"
  mv "$WORK/started.json" "$WORK/run.json"
  wait "$probe"
  after_db=$(stats); snap $(pg_pids) >"$WORK/pg1"; snap "${PIDS[@]}" >"$WORK/ta1"
  # Pools keep what they opened (idle for 5 minutes): the high-water mark.
  echo "  connections open at the end: $(pg_pids | wc -l) (serve + $workers workers, at most $CONNECTIONS each)"
  stop_all
  "$BIN" runbooks preflight findings.backfill-lifecycle --all-tenants --json >"$WORK/after.json"
  tenants=$(sql ta_scale "select count(*) from tenants")
  python3 scripts/bench/scale_report.py "$workers" "$CONCURRENCY" "$tenants" "$WORK/before.json" "$WORK/probe.json" \
    "$WORK/after.json" "$before_db" "$after_db" "$WORK/pg0" "$WORK/pg1" "$WORK/ta0" "$WORK/ta1" \
    || { tail -20 "$WORK/serve.log" "$WORK/worker.log"; exit 1; }
  if [ -n "${KEEP_PROBE:-}" ]; then cp "$WORK/probe.json" "$KEEP_PROBE.$workers.json"; fi
done
