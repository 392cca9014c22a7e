"""Reads a run (tenantatlas --json) on stdin; prints seconds tenants items outcome.

With an epoch-seconds argument (when the CLI command was started), the time is
counted from it to the run's completed_at; without, from the run's created_at.
"""
import json
import sys
from datetime import datetime, timezone


def parse(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


run = json.load(sys.stdin)
counts = run["summary_counts"]
if len(sys.argv) > 1:
    start = datetime.fromtimestamp(float(sys.argv[1]), tz=timezone.utc)
else:
    start = parse(run["created_at"])
seconds = (parse(run["completed_at"]) - start).total_seconds()
print(f"{seconds:.2f} {counts['total']} {counts['items_updated']} {run['outcome']}")
