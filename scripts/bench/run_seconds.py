"""Reads a run (tenantatlas --json) on stdin; prints seconds tenants items outcome."""
import json
import sys
from datetime import datetime


def parse(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


run = json.load(sys.stdin)
counts = run["summary_counts"]
seconds = (parse(run["completed_at"]) - parse(run["created_at"])).total_seconds()
print(f"{seconds:.2f} {counts['total']} {counts['items_updated']} {run['outcome']}")
