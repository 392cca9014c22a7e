# The benchmark scripts' common start, sourced by each: strict mode, the
# repository's root as the working folder, the PostgreSQL server (BENCH_PG)
# and the line that says which machine the figures come from.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
machine() {
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
