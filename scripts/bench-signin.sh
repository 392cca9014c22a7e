#!/usr/bin/env bash
# Flood check of sign-in: a release `serve` on a fresh SQLite file, then
#   phase A: FLOOD parallel POST /system/login, each with its own unknown email,
#            all from loopback (one client address);
#   phase B: the same from FLOOD different addresses (X-Forwarded-For, loopback
#            is a trusted proxy), which the limit per address does not hold back.
# During each phase it polls /healthz and signs a real operator in from another
# address, and afterwards reads the server's peak resident memory (VmHWM).
# Usage: scripts/bench-signin.sh   (a release build in target/release)
# Environment: BIN, PORT, FLOOD (default 300).
set -euo pipefail
BIN=${BIN:-target/release/tenantatlas}
PORT=${PORT:-18090}
FLOOD=${FLOOD:-300}
BASE=http://127.0.0.1:$PORT
DIR=$(mktemp -d)
export DATABASE_URL="sqlite://$DIR/bench.db"
export TENANTATLAS_TRUSTED_PROXIES=127.0.0.1
export RUST_LOG=warn
PW='bench-password-12345'

printf '%s\n' "$PW" | $BIN platform-user create --email operator@ops.test --name Operator \
  --password-stdin --all-capabilities >/dev/null
$BIN serve --bind 127.0.0.1:$PORT --workers 0 >"$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf $BASE/healthz >/dev/null && break; sleep 0.1; done

kib() { awk -v k="$1" '$1 == k":" {print $2}' /proc/$SERVER/status; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f MB", k / 1024}'; }

# A form token and its cookie, as a browser would hold them.
token_into() {
  curl -s -c "$1" -b "$1" $BASE/system/login | grep -o 'name="_token" value="[^"]*"' | sed 's/.*value="//;s/"$//'
}

# The operator signs in from 198.51.100.7, honouring Retry-After when busy.
operator_signs_in() {
  local jar="$DIR/operator.jar" started tries=0 code
  rm -f "$jar"
  started=$(date +%s.%N)
  while :; do
    tries=$((tries + 1))
    local tok
    tok=$(token_into "$jar")
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" -H 'X-Forwarded-For: 198.51.100.7' \
      --data-urlencode "_token=$tok" --data-urlencode email=operator@ops.test \
      --data-urlencode "password=$PW" $BASE/system/login)
    if [ "$code" != 503 ] || [ $tries -ge 10 ]; then break; fi
    sleep 5
  done
  awk -v s="$started" -v e="$(date +%s.%N)" -v c="$code" -v t="$tries" \
    'BEGIN {printf "operator sign-in: %s after %.2f s (%d attempt%s)\n", c, e - s, t, t == 1 ? "" : "s"}'
}

# /healthz every 50 ms until the flag file goes; prints the slowest answer.
poll_health() {
  local worst=0 n=0 t
  while [ -e "$DIR/flooding" ]; do
    t=$(curl -s -o /dev/null -m 10 -w '%{time_total}' $BASE/healthz || echo 10)
    worst=$(awk -v a="$worst" -v b="$t" 'BEGIN {print (b > a) ? b : a}')
    n=$((n + 1))
    sleep 0.05
  done
  awk -v w="$worst" -v n="$n" 'BEGIN {printf "/healthz during the flood: %d polls, slowest %.0f ms\n", n, w * 1000}'
}

flood() {
  local phase=$1 jar="$DIR/flood.jar" tok config="$DIR/flood.curl"
  rm -f "$jar"
  tok=$(token_into "$jar")
  : >"$config"
  for i in $(seq 1 "$FLOOD"); do
    if [ $i -gt 1 ]; then echo next >>"$config"; fi
    {
      echo "url = \"$BASE/system/login\""
      echo "cookie = \"$jar\""
      echo "data-urlencode = \"_token=$tok\""
      echo "data-urlencode = \"email=flood-$phase-$i@example.test\""
      echo "data-urlencode = \"password=not-the-password\""
      echo "output = \"/dev/null\""
      echo "write-out = \"%{http_code} %{time_total}\\n\""
      if [ "$phase" = B ]; then
        echo "header = \"X-Forwarded-For: 10.$((i / 250)).$((i % 250)).1\""
      fi
    } >>"$config"
  done
  echo "== phase $phase: $FLOOD parallel sign-ins, distinct emails, $([ "$phase" = A ] && echo "one address" || echo "$FLOOD addresses")"
  touch "$DIR/flooding"
  poll_health >"$DIR/health.out" &
  local poller=$!
  local started
  started=$(date +%s.%N)
  curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$FLOOD" -K "$config" \
    >"$DIR/flood.out" 2>/dev/null &
  local flooder=$!
  sleep 0.3
  operator_signs_in
  wait $flooder
  local took
  took=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e - s}')
  rm -f "$DIR/flooding"
  wait $poller
  cat "$DIR/health.out"
  echo "flood answered in $took s:"
  awk '{n[$1]++; if ($2 > w[$1]) w[$1] = $2} END {for (c in n) printf "  %s x %d (slowest %.2f s)\n", c, n[c], w[c]}' "$DIR/flood.out" | sort
  echo "server peak resident memory so far (VmHWM): $(mb "$(kib VmHWM)"); now (VmRSS): $(mb "$(kib VmRSS)")"
}

echo "cores: $(nproc); server pid $SERVER; idle VmHWM $(mb "$(kib VmHWM)")"
flood A
sleep 1
flood B
