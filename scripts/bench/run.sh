#!/usr/bin/env bash
# Benchmarks of the runbook core (BENCHMARKS.md): the fan-out of tenants with
# nothing to do (from the CLI command's start to the run's completed_at), and
# the all-tenants lifecycle backfill against one set-based UPDATE on an
# identical copy of the data, side by side; the CLI's peak memory.
#   scripts/bench/run.sh            PostgreSQL (BENCH_PG, default local server) and SQLite
# Environment: TENANTS (200), FINDINGS (2500), FANOUT_TENANTS (3000),
#   CONCURRENCY (2, the backfill), FANOUT_CONCURRENCY ("2 8"), ROUNDS (3),
#   BACKENDS ("pg sqlite"), PARTS ("fanout backfill"),
#   BIN (a built binary to measure; default: build this checkout),
#   BIN_B (optional: a second binary, alternated with BIN run by run; both must
#   know the same migrations, since a binary refuses a database migrated past them).
. "$(dirname "$0")/lib.sh"
TENANTS=${TENANTS:-200}
FINDINGS=${FINDINGS:-2500}
FANOUT_TENANTS=${FANOUT_TENANTS:-3000}
CONCURRENCY=${CONCURRENCY:-2}
FANOUT_CONCURRENCY=${FANOUT_CONCURRENCY:-2 8}
ROUNDS=${ROUNDS:-3}
BACKENDS=${BACKENDS:-pg sqlite}
PARTS=${PARTS:-fanout backfill}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=$PWD/target/release/tenantatlas
fi
BINS="$BIN ${BIN_B:-}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
now() { date +%s.%N; }
since() { python3 -c "print(round($(now)-$1,2))"; }

run_all() { # BIN CONCURRENCY; prints: seconds tenants items outcome peakKB (seconds from the command's start)
  local start
  start=$(now)
  /usr/bin/time -f "%M" -o "$WORK/mem" "$1" runbooks run findings.backfill-lifecycle --all-tenants \
    --wait --concurrency "$2" --json >"$WORK/run.json" || true
  echo "$(python3 scripts/bench/run_seconds.py "$start" <"$WORK/run.json") $(cat "$WORK/mem")"
}

label() { [ -n "${BIN_B:-}" ] && echo " [$(basename "$1")]" || true; }

fanout() { # backend
  for c in $FANOUT_CONCURRENCY; do
    for _ in $(seq "$ROUNDS"); do
      for b in $BINS; do
        echo "$1 fan-out c$c$(label "$b") (s tenants items outcome peakKB): $(run_all "$b" "$c")"
      done
    done
  done
}

machine
if has "$BACKENDS" pg && psql "$PG/postgres" -qAtc 'select 1' >/dev/null 2>&1; then
  psql "$PG/postgres" -qAtc "select version()" | cut -d, -f1
  drop() { for db in "$@"; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $db"; done; }
  drop ta_bench ta_bench_a ta_bench_b ta_bench_fanout
  if has "$PARTS" fanout; then
    psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_fanout"
    export DATABASE_URL=$PG/ta_bench_fanout
    "$BIN" demo seed --tenants "$FANOUT_TENANTS" --findings-per-tenant 0 >/dev/null
    fanout pg
    drop ta_bench_fanout
  fi
  if has "$PARTS" backfill; then
    psql "$PG/postgres" -qc "CREATE DATABASE ta_bench"
    export DATABASE_URL=$PG/ta_bench
    start=$(now)
    "$BIN" demo seed --tenants "$TENANTS" --findings-per-tenant "$FINDINGS" >/dev/null
    echo "pg seed: $(since "$start") s"
    psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
    for round in $(seq "$ROUNDS"); do
      for b in $BINS; do
        drop ta_bench_a ta_bench_b
        psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_a TEMPLATE ta_bench"
        psql "$PG/postgres" -qc "CREATE DATABASE ta_bench_b TEMPLATE ta_bench"
        psql "$PG/ta_bench_a" -qc "CHECKPOINT"
        start=$(now)
        psql "$PG/ta_bench_a" -qf scripts/bench/single_update.pg.sql
        single=$(since "$start")
        # Each side starts just after a checkpoint, so neither pays for the
        # other's full-page images or for a checkpoint it did not cause.
        psql "$PG/ta_bench_b" -qc "CHECKPOINT"
        DATABASE_URL=$PG/ta_bench_b
        run=$(run_all "$b" "$CONCURRENCY")
        echo "pg backfill round $round$(label "$b"): single UPDATE $single s; all-tenants run (s tenants items outcome peakKB) $run; ratio $(python3 -c "print(round(${run%% *}/$single,2))")"
      done
    done
    drop ta_bench ta_bench_a ta_bench_b
  fi
fi

if has "$BACKENDS" sqlite; then
  if has "$PARTS" fanout; then
    export DATABASE_URL="sqlite://$WORK/fanout.db"
    "$BIN" demo seed --tenants "$FANOUT_TENANTS" --findings-per-tenant 0 >/dev/null
    fanout sqlite
  fi
  if has "$PARTS" backfill; then
    export DATABASE_URL="sqlite://$WORK/bench.db"
    "$BIN" demo seed --tenants "$TENANTS" --findings-per-tenant "$FINDINGS" >/dev/null
    sqlite3 "$WORK/bench.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    for round in $(seq "$ROUNDS"); do
      for b in $BINS; do
        cp "$WORK/bench.db" "$WORK/a.db"
        cp "$WORK/bench.db" "$WORK/b.db"
        start=$(now)
        sqlite3 "$WORK/a.db" <scripts/bench/single_update.sqlite.sql
        single=$(since "$start")
        DATABASE_URL="sqlite://$WORK/b.db"
        run=$(run_all "$b" "$CONCURRENCY")
        echo "sqlite backfill round $round$(label "$b"): single UPDATE $single s; all-tenants run (s tenants items outcome peakKB) $run; ratio $(python3 -c "print(round(${run%% *}/$single,2))")"
      done
    done
  fi
fi
