-- The whole lifecycle backfill as one set-based UPDATE (SQLite dialect).
UPDATE findings SET
    status = CASE findings.legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved' ELSE 'risk_accepted' END,
    first_seen_at = COALESCE(o.first_at, findings.created_at),
    last_seen_at = COALESCE(o.last_at, findings.updated_at),
    times_seen = max(COALESCE(o.n, 0), 1),
    resolved_at = CASE WHEN findings.legacy_state = 'closed' THEN COALESCE(findings.closed_at, findings.updated_at) END,
    sla_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', COALESCE(o.first_at, findings.created_at), CASE findings.severity
        WHEN 'critical' THEN '+7 days' WHEN 'high' THEN '+30 days' WHEN 'medium' THEN '+90 days' ELSE '+180 days' END),
    lifecycle_version = 1
FROM (SELECT f2.id AS id FROM findings f2) AS ids
LEFT JOIN (SELECT finding_id, min(observed_at) AS first_at, max(observed_at) AS last_at, count(*) AS n
           FROM finding_observations GROUP BY finding_id) o ON o.finding_id = ids.id
WHERE findings.id = ids.id AND findings.lifecycle_version IS NULL
  AND findings.legacy_state IN ('open', 'closed', 'ignored')
  AND findings.severity IN ('critical', 'high', 'medium', 'low');
