-- Job states named for what they mean (see `JobStatus`): queued becomes
-- available (or retryable after a failed attempt), done completed, dead
-- discarded. A tenant job's arguments move into its payload, and a job
-- records why it waits or ended (`reason`).
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
DROP INDEX jobs_ready;
UPDATE jobs SET status = CASE status
        WHEN 'queued' THEN CASE WHEN attempts > 0 AND last_error IS NOT NULL THEN 'retryable' ELSE 'available' END
        WHEN 'done' THEN 'completed'
        WHEN 'dead' THEN 'discarded'
        ELSE status
    END
WHERE status IN ('queued', 'done', 'dead');
UPDATE jobs SET payload = json_build_object('run_id', run_id, 'tenant_id', tenant_id)::text
WHERE kind = 'runbook.tenant';
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('available', 'running', 'retryable', 'completed', 'discarded', 'cancelled'));
ALTER TABLE jobs ADD COLUMN reason TEXT NULL;
CREATE INDEX jobs_ready ON jobs (run_at_ms, id) WHERE status IN ('available', 'retryable');
