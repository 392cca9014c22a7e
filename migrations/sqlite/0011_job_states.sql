-- Job states named for what they mean (see `JobStatus`): queued becomes
-- available (or retryable after a failed attempt), done completed, dead
-- discarded. A tenant job's arguments move into its payload, and a job
-- records why it waits or ended (`reason`). SQLite cannot change a CHECK,
-- so the table is rebuilt; nothing references it.
CREATE TABLE jobs_new (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id INTEGER NULL REFERENCES operation_runs (id),
    tenant_id INTEGER NULL REFERENCES tenants (id),
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('available', 'running', 'retryable', 'completed', 'discarded', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at_ms INTEGER NOT NULL,
    lease_owner TEXT NULL,
    lease_until_ms INTEGER NULL,
    last_error TEXT NULL,
    reason TEXT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
INSERT INTO jobs_new (id, kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms,
                      lease_owner, lease_until_ms, last_error, created_at_ms, updated_at_ms)
SELECT id, kind, run_id, tenant_id,
       CASE WHEN kind = 'runbook.tenant' THEN json_object('run_id', run_id, 'tenant_id', tenant_id) ELSE payload END,
       CASE status
           WHEN 'queued' THEN CASE WHEN attempts > 0 AND last_error IS NOT NULL THEN 'retryable' ELSE 'available' END
           WHEN 'done' THEN 'completed'
           WHEN 'dead' THEN 'discarded'
           ELSE status
       END,
       attempts, max_attempts, run_at_ms, lease_owner, lease_until_ms, last_error, created_at_ms, updated_at_ms
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_ready ON jobs (run_at_ms, id) WHERE status IN ('available', 'retryable');
CREATE INDEX jobs_leased ON jobs (lease_until_ms) WHERE status = 'running';
CREATE INDEX jobs_run ON jobs (run_id, status);
