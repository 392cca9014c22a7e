-- Alert routing (SQLite): destinations, rules with cooldown and quiet hours, deliveries.
CREATE TABLE alert_destinations (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('teams', 'email')),
    -- JSON: {"url": …} for teams, {"to": […]} for email. The URL is a secret.
    config TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    event TEXT NOT NULL,
    min_severity TEXT NOT NULL CHECK (min_severity IN ('low', 'medium', 'high', 'critical')),
    cooldown_seconds INTEGER NOT NULL DEFAULT 0,
    quiet_hours TEXT NULL,
    timezone TEXT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE alert_rule_destinations (
    rule_id INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    destination_id INTEGER NOT NULL REFERENCES alert_destinations (id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, destination_id)
);

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
    rule_id INTEGER NULL REFERENCES alert_rules (id) ON DELETE SET NULL,
    destination_id INTEGER NULL REFERENCES alert_destinations (id) ON DELETE SET NULL,
    event TEXT NOT NULL,
    -- One delivery per rule × destination × event occurrence.
    event_key TEXT NOT NULL,
    -- What cooldown compares: the runbook and scope of the event.
    fingerprint TEXT NOT NULL,
    severity TEXT NOT NULL,
    run_id INTEGER NULL REFERENCES operation_runs (id),
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'suppressed', 'deferred', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NULL,
    deliver_after TEXT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT NULL
);
CREATE UNIQUE INDEX alert_deliveries_once ON alert_deliveries (rule_id, destination_id, event_key);
CREATE INDEX alert_deliveries_cooldown ON alert_deliveries (rule_id, fingerprint, created_at);
CREATE INDEX alert_deliveries_recent ON alert_deliveries (id DESC);
