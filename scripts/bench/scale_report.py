"""The figures of one scale run, and its exact-count checks (exit 1 when one fails).
  scale_report.py WORKERS CONCURRENCY TENANTS BEFORE.json PROBE.json AFTER.json
                  DB_BEFORE DB_AFTER PG_CPU0 PG_CPU1 TA_CPU0 TA_CPU1
DB_* are "commits|rows" from pg_stat_database; the CPU files hold "pid ticks"
lines (1/100 s) of the database's processes and of ours, before and after."""
import json
import sys
from datetime import datetime


def parse(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


workers, concurrency, tenants = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
before = json.load(open(sys.argv[4]))
probe = json.load(open(sys.argv[5]))
after = json.load(open(sys.argv[6]))
commits0, rows0 = map(int, sys.argv[7].split("|"))
commits1, rows1 = map(int, sys.argv[8].split("|"))


def ticks(path):
    return {int(p): int(t) for p, t in (line.split() for line in open(path) if line.strip())}


def cpu_seconds(before, after):
    b, a = ticks(before), ticks(after)
    return sum(t - b.get(p, 0) for p, t in a.items()) / 100.0


pg_cpu = cpu_seconds(sys.argv[9], sys.argv[10])
ta_cpu = cpu_seconds(sys.argv[11], sys.argv[12])

run = probe["run"]
counts = run["summary_counts"]
seconds = (parse(run["completed_at"]) - parse(run["created_at"])).total_seconds()
page, api = probe["page_ms"], probe["api_ms"]
print(
    f"workers {workers}x{concurrency}: run {run['id']} {run['outcome']} in {seconds:.1f} s, "
    f"{counts['processed'] / seconds:.0f} tenants/s, {counts['items_updated'] / seconds:.0f} findings/s; "
    f"View run page p50 {page['p50']} ms p99 {page['p99']} ms max {page['max']} ms (n={page['n']}, "
    f"slowest [s into the run, ms] {page['slowest']}); "
    f"API p50 {api['p50']} ms p99 {api['p99']} ms max {api['max']} ms (n={api['n']}); "
    f"db {(commits1 - commits0) / seconds:.0f} commits/s {(rows1 - rows0) / seconds:.0f} rows/s; "
    f"cpu postgres {pg_cpu / seconds:.2f} cores, tenantatlas {ta_cpu / seconds:.2f} cores"
)
checks = {
    "processed = total = tenants": counts["processed"] == counts["total"] == tenants,
    "succeeded = total": counts["succeeded"] == counts["total"],
    "items_updated = pending before": counts["items_updated"] == before["items_pending"],
    "no item failed": counts["items_failed"] == 0 and counts["failed"] == 0,
    "0 pending findings after": after["items_pending"] == 0,
    "no probe errors": probe["errors"] == 0,
}
print(
    f"  counts: total {counts['total']} processed {counts['processed']} items_updated "
    f"{counts['items_updated']} (pending before {before['items_pending']}, after {after['items_pending']}); "
    + ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in checks.items())
)
sys.exit(0 if all(checks.values()) else 1)
