-- Operator controls (PostgreSQL): per-tenant results with attempts, times,
-- reason and expected items; a tenant state `not_started`, and `queued`
-- for the former `pending`; a run's concurrency cap, error budget, pause
-- flag, reason and expected items.
ALTER TABLE operation_run_tenants DROP CONSTRAINT operation_run_tenants_state_check;
UPDATE operation_run_tenants SET state = 'queued' WHERE state = 'pending';
ALTER TABLE operation_run_tenants ADD CONSTRAINT operation_run_tenants_state_check
    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'not_started', 'cancelled'));
ALTER TABLE operation_run_tenants ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operation_run_tenants ADD COLUMN started_at TIMESTAMPTZ NULL;
ALTER TABLE operation_run_tenants ADD COLUMN reason_code TEXT NULL;
ALTER TABLE operation_run_tenants ADD COLUMN message TEXT NULL;
ALTER TABLE operation_run_tenants ADD COLUMN items_expected BIGINT NULL;
CREATE INDEX operation_run_tenants_state ON operation_run_tenants (run_id, state);

ALTER TABLE operation_runs ADD COLUMN max_concurrency TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN max_errors TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN min_finished BIGINT NULL;
ALTER TABLE operation_runs ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE operation_runs ADD COLUMN reason_code TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN items_expected BIGINT NULL;
ALTER TABLE operation_runs ADD COLUMN not_started BIGINT NOT NULL DEFAULT 0;
ALTER TABLE operation_runs ADD COLUMN retry_of BIGINT NULL REFERENCES operation_runs (id);
CREATE INDEX operation_runs_retry_of ON operation_runs (retry_of) WHERE retry_of IS NOT NULL;
