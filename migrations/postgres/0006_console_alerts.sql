-- Alerts the console can edit and pause, deliveries that explain themselves,
-- and an audit log searchable by date and actor (PostgreSQL).
ALTER TABLE alert_destinations ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE alert_rules ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
-- Why a delivery was not sent (cooldown, a disabled destination).
ALTER TABLE alert_deliveries ADD COLUMN suppressed_reason TEXT NULL;
-- The queued job that sends it: its next attempt is the job's run time.
ALTER TABLE alert_deliveries ADD COLUMN job_id BIGINT NULL;
CREATE INDEX audit_events_created ON audit_events (created_at);
CREATE INDEX audit_events_actor ON audit_events (actor_kind, id);
