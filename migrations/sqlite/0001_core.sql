-- Core schema (SQLite). Times are RFC 3339 text; queue and lock times are epoch milliseconds.
CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, external_id)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE platform_users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    capabilities TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NULL REFERENCES workspaces (id),
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    fingerprint TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    legacy_state TEXT NOT NULL,
    closed_at TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NULL,
    first_seen_at TEXT NULL,
    last_seen_at TEXT NULL,
    times_seen INTEGER NULL,
    resolved_at TEXT NULL,
    sla_due_at TEXT NULL,
    lifecycle_version INTEGER NULL
);
CREATE INDEX findings_tenant ON findings (tenant_id, id);
CREATE INDEX findings_lifecycle_pending ON findings (tenant_id, id) WHERE lifecycle_version IS NULL;
CREATE INDEX findings_workspace_missing ON findings (tenant_id, id) WHERE workspace_id IS NULL;

CREATE TABLE finding_observations (
    id INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL REFERENCES findings (id),
    observed_at TEXT NOT NULL
);
CREATE INDEX finding_observations_finding ON finding_observations (finding_id, observed_at);

CREATE TABLE operation_runs (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NULL REFERENCES workspaces (id),
    tenant_id INTEGER NULL REFERENCES tenants (id),
    type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed')),
    outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'partially_succeeded', 'failed', 'cancelled')),
    run_identity TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    processed INTEGER NOT NULL DEFAULT 0,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    items_skipped INTEGER NOT NULL DEFAULT 0,
    items_failed INTEGER NOT NULL DEFAULT 0,
    context TEXT NOT NULL,
    user_id INTEGER NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    started_at TEXT NULL,
    completed_at TEXT NULL
);
-- The database, not a check-then-insert, keeps one active run per identity.
CREATE UNIQUE INDEX operation_runs_active_identity ON operation_runs (run_identity)
    WHERE status IN ('queued', 'running');
CREATE INDEX operation_runs_recent ON operation_runs (id DESC);

-- One row per (run, tenant): a tenant's result counts exactly once.
CREATE TABLE operation_run_tenants (
    run_id INTEGER NOT NULL REFERENCES operation_runs (id),
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    items_updated INTEGER NOT NULL DEFAULT 0,
    items_skipped INTEGER NOT NULL DEFAULT 0,
    items_failed INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT NULL,
    PRIMARY KEY (run_id, tenant_id)
);

CREATE TABLE operation_run_failures (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES operation_runs (id),
    tenant_id INTEGER NULL REFERENCES tenants (id),
    reason_code TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX operation_run_failures_run ON operation_run_failures (run_id, id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id INTEGER NULL REFERENCES operation_runs (id),
    tenant_id INTEGER NULL REFERENCES tenants (id),
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at_ms INTEGER NOT NULL,
    lease_owner TEXT NULL,
    lease_until_ms INTEGER NULL,
    last_error TEXT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (run_at_ms, id) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until_ms) WHERE status = 'running';
CREATE INDEX jobs_run ON jobs (run_id, status);

CREATE TABLE tenant_locks (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    owner TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    actor_kind TEXT NOT NULL,
    actor_id INTEGER NULL,
    actor_email TEXT NULL,
    action TEXT NOT NULL,
    subject TEXT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    ip TEXT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_events_recent ON audit_events (id DESC);
