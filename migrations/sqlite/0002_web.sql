-- Web door (SQLite): sessions of both planes, login throttling, operator notifications.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    plane TEXT NOT NULL CHECK (plane IN ('system', 'admin')),
    data TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at_ms);

-- One row per login attempt inside the throttle window, keyed by ip + normalized email.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    attempted_at_ms INTEGER NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (throttle_key, attempted_at_ms);

-- Database notifications shown in the /system bell. `body` is JSON text.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    platform_user_id INTEGER NOT NULL REFERENCES platform_users (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '{}',
    url TEXT NULL,
    read_at TEXT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications (platform_user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (platform_user_id) WHERE read_at IS NULL;
