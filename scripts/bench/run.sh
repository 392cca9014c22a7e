#!/usr/bin/env bash
# Benchmarks of the runbook core (BENCHMARKS.md): the all-tenants lifecycle
# backfill against one set-based UPDATE on an identical copy of the data, the
# fan-out of tenants with nothing to do, and the CLI's peak memory.
#   scripts/bench/run.sh            PostgreSQL (BENCH_PG, default local server) and SQLite
# Environment: TENANTS (200), FINDINGS (2500), FANOUT_TENANTS (3000), CONCURRENCY (2), FANOUT_CONCURRENCY (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
TENANTS=${TENANTS:-200}
FINDINGS=${FINDINGS:-2500}
FANOUT_TENANTS=${FANOUT_TENANTS:-3000}
CONCURRENCY=${CONCURRENCY:-2}
FANOUT_CONCURRENCY=${FANOUT_CONCURRENCY:-8}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
cargo build --release --quiet
BIN=$PWD/target/release/tenantatlas
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

seconds() { python3 scripts/bench/run_seconds.py; }

run_backfill() { # prints: seconds tenants items outcome peakKB
  /usr/bin/time -f "%M" -o "$WORK/mem" "$BIN" runbooks run findings.backfill-lifecycle --all-tenants \
    --wait --concurrency "$CONCURRENCY" --json >"$WORK/run.json" || true
  echo "$(seconds <"$WORK/run.json") $(cat "$WORK/mem")"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
if psql "$PG/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
  psql "$PG/postgres" -qAtc "select version()" | cut -d, -f1
  for db in ta_bench ta_bench_copy ta_bench_fanout; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db"; done
  # Fan-out first, on a quiet database: three fresh runs over the same tenants.
  psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_fanout"
  export DATABASE_URL=$PG/ta_bench_fanout
  "$BIN" demo seed --tenants "$FANOUT_TENANTS" --findings-per-tenant 0 >/dev/null
  for _ in 1 2 3; do
    echo "pg fan-out, nothing to do (s tenants items outcome peakKB): $(CONCURRENCY=$FANOUT_CONCURRENCY run_backfill)"
  done
  psql "$PG/postgres" -qc "CREATE DATABASE ta_bench"
  export DATABASE_URL=$PG/ta_bench
  start=$(date +%s.%N)
  "$BIN" demo seed --tenants "$TENANTS" --findings-per-tenant "$FINDINGS"
  echo "pg seed: $(python3 -c "print(round($(date +%s.%N)-$start,2))") s"
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
  psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_copy TEMPLATE ta_bench"
  start=$(date +%s.%N)
  psql "$PG/ta_bench_copy" -qf scripts/bench/single_update.pg.sql
  echo "pg single UPDATE: $(python3 -c "print(round($(date +%s.%N)-$start,2))") s"
  echo "pg all-tenants run (s tenants items outcome peakKB): $(run_backfill)"
  for db in ta_bench ta_bench_copy ta_bench_fanout; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db"; done
fi

export DATABASE_URL="sqlite://$WORK/fanout.db"
"$BIN" demo seed --tenants "$FANOUT_TENANTS" --findings-per-tenant 0 >/dev/null
for _ in 1 2 3; do
  echo "sqlite fan-out, nothing to do (s tenants items outcome peakKB): $(CONCURRENCY=$FANOUT_CONCURRENCY run_backfill)"
done
export DATABASE_URL="sqlite://$WORK/bench.db"
"$BIN" demo seed --tenants "$TENANTS" --findings-per-tenant "$FINDINGS" >/dev/null
cp "$WORK/bench.db" "$WORK/copy.db"
start=$(date +%s.%N)
sqlite3 "$WORK/copy.db" <scripts/bench/single_update.sqlite.sql
echo "sqlite single UPDATE: $(python3 -c "print(round($(date +%s.%N)-$start,2))") s"
echo "sqlite all-tenants run (s tenants items outcome peakKB): $(run_backfill)"
