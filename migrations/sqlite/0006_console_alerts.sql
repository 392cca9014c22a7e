-- Alerts the console can edit and pause, deliveries that explain themselves,
-- and an audit log searchable by date and actor (SQLite).
ALTER TABLE alert_destinations ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE alert_rules ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
-- Why a delivery was not sent (cooldown, a disabled destination).
ALTER TABLE alert_deliveries ADD COLUMN suppressed_reason TEXT NULL;
-- The queued job that sends it: its next attempt is the job's run time.
ALTER TABLE alert_deliveries ADD COLUMN job_id INTEGER NULL;
CREATE INDEX audit_events_created ON audit_events (created_at);
CREATE INDEX audit_events_actor ON audit_events (actor_kind, id);
