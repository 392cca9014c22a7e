-- Sign-in hardening (PostgreSQL): throttle keys become SHA-256 digests, so the
-- rows with plain keys (which held typed emails) go; they counted for at most
-- a minute. The sweep deletes attempts by age.
DELETE FROM login_attempts;
CREATE INDEX login_attempts_age ON login_attempts (attempted_at_ms);

-- Secrets of the deployment, generated once and shared by every process
-- (the key that signs anonymous visitors' CSRF tokens).
CREATE TABLE deployment_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
