-- The whole lifecycle backfill as one set-based UPDATE: the yardstick the
-- chunked all-tenants run is measured against (BENCHMARKS.md).
UPDATE findings SET
    status = CASE findings.legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved' ELSE 'risk_accepted' END,
    first_seen_at = COALESCE(o.first_at, findings.created_at),
    last_seen_at = COALESCE(o.last_at, findings.updated_at),
    times_seen = GREATEST(COALESCE(o.n, 0), 1),
    resolved_at = CASE WHEN findings.legacy_state = 'closed' THEN COALESCE(findings.closed_at, findings.updated_at) END,
    sla_due_at = COALESCE(o.first_at, findings.created_at) + CASE findings.severity
        WHEN 'critical' THEN interval '7 days' WHEN 'high' THEN interval '30 days'
        WHEN 'medium' THEN interval '90 days' ELSE interval '180 days' END,
    lifecycle_version = 1
FROM findings f2
LEFT JOIN (SELECT finding_id, min(observed_at) AS first_at, max(observed_at) AS last_at, count(*) AS n
           FROM finding_observations GROUP BY finding_id) o ON o.finding_id = f2.id
WHERE findings.id = f2.id AND findings.lifecycle_version IS NULL
  AND findings.legacy_state IN ('open', 'closed', 'ignored')
  AND findings.severity IN ('critical', 'high', 'medium', 'low');
