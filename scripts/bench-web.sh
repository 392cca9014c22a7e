#!/usr/bin/env bash
# Benchmark of GET /system/api/runs/{id} and the View run page for a signed-in operator.
# Usage: scripts-bench-web.sh DATABASE_URL  (a release build in target/release)
set -euo pipefail
export DATABASE_URL="$1"
BIN=${BIN:-target/release/tenantatlas}
PORT=${PORT:-18080}
PW='bench-password-12345'
$BIN demo seed --tenants 8 --findings-per-tenant 250 --bad-tenants 1 >/dev/null
printf '%s\n' "$PW" | $BIN platform-user create --email bench@ops.test --name Bench --password-stdin --all-capabilities >/dev/null
RUN=$($BIN --json runbooks run findings.backfill-lifecycle --all-tenants --reason bench --wait | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' || true)
RUN=${RUN:-1}
$BIN serve --bind 127.0.0.1:$PORT --workers 0 >/tmp/bench-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
JAR=$(mktemp)
TOKEN=$(curl -s -c "$JAR" -b "$JAR" http://127.0.0.1:$PORT/system/login | grep -o 'name="_token" value="[^"]*"' | sed 's/.*value="//;s/"//')
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "_token=$TOKEN" --data-urlencode email=bench@ops.test --data-urlencode "password=$PW" http://127.0.0.1:$PORT/system/login
COOKIE=$(awk '$6=="tenantatlas_system_session"{print $6"="$7}' "$JAR")
curl -sf -H "Cookie: $COOKIE" http://127.0.0.1:$PORT/system/api/runs/$RUN >/dev/null
for path in /system/api/runs/$RUN /system/runs/$RUN; do
  for conns in 4 16; do
    echo "== GET $path, $conns connections, 2 threads, 20 s"
    wrk -t2 -c$conns -d20s --latency -H "Cookie: $COOKIE" http://127.0.0.1:$PORT$path | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
  done
done
