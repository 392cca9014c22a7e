-- Operator controls (SQLite): per-tenant results with attempts, times,
-- reason and expected items; a tenant state `not_started`, and `queued`
-- for the former `pending`; a run's concurrency cap, error budget, pause
-- flag, reason and expected items. SQLite cannot alter a CHECK, so the
-- tenant table is rebuilt (nothing references it).
CREATE TABLE operation_run_tenants_new (
    run_id INTEGER NOT NULL REFERENCES operation_runs (id),
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'not_started', 'cancelled')),
    items_updated INTEGER NOT NULL DEFAULT 0,
    items_skipped INTEGER NOT NULL DEFAULT 0,
    items_failed INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NULL,
    reason_code TEXT NULL,
    message TEXT NULL,
    items_expected INTEGER NULL,
    PRIMARY KEY (run_id, tenant_id)
);
INSERT INTO operation_run_tenants_new (run_id, tenant_id, state, items_updated, items_skipped, items_failed, finished_at)
    SELECT run_id, tenant_id, CASE WHEN state = 'pending' THEN 'queued' ELSE state END,
           items_updated, items_skipped, items_failed, finished_at
    FROM operation_run_tenants;
DROP TABLE operation_run_tenants;
ALTER TABLE operation_run_tenants_new RENAME TO operation_run_tenants;
CREATE INDEX operation_run_tenants_state ON operation_run_tenants (run_id, state);

ALTER TABLE operation_runs ADD COLUMN max_concurrency TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN max_errors TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN min_finished INTEGER NULL;
ALTER TABLE operation_runs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operation_runs ADD COLUMN reason_code TEXT NULL;
ALTER TABLE operation_runs ADD COLUMN items_expected INTEGER NULL;
ALTER TABLE operation_runs ADD COLUMN not_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operation_runs ADD COLUMN retry_of INTEGER NULL REFERENCES operation_runs (id);
CREATE INDEX operation_runs_retry_of ON operation_runs (retry_of) WHERE retry_of IS NOT NULL;
