//! Statements of platform operators, customer users and login attempts.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Backend, Db};

/// An operator's row. `Debug` never shows the password hash.
#[derive(Clone, sqlx::FromRow)]
pub struct PlatformUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub capabilities: String,
    pub active: bool,
}

/// A customer user's row. `Debug` never shows the password hash.
#[derive(Clone, sqlx::FromRow)]
pub struct CustomerUser {
    pub id: i64,
    pub workspace_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

impl std::fmt::Debug for PlatformUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &"***")
            .field("capabilities", &self.capabilities)
            .field("active", &self.active)
            .finish()
    }
}

impl std::fmt::Debug for CustomerUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerUser")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &"***")
            .finish()
    }
}

const PLATFORM_COLUMNS: &str = "id, email, name, password_hash, capabilities, active";
const CUSTOMER_COLUMNS: &str = "id, workspace_id, email, name, password_hash";

pub async fn platform_user_by_email(
    db: &Db,
    email: &str,
) -> Result<Option<PlatformUser>, sqlx::Error> {
    db.fetch_optional(
        &format!("SELECT {PLATFORM_COLUMNS} FROM platform_users WHERE email = $1"),
        args![email],
    )
    .await
}

pub async fn insert_platform_user(
    db: &Db,
    email: &str,
    name: &str,
    password_hash: &str,
    capabilities: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    db.scalar(
        "INSERT INTO platform_users (email, name, password_hash, capabilities, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        args![email, name, password_hash, capabilities, now],
    )
    .await
}

pub async fn reset_platform_user(
    db: &Db,
    id: i64,
    password_hash: &str,
    capabilities: &str,
) -> Result<(), sqlx::Error> {
    db.execute(
        &format!(
            "UPDATE platform_users SET password_hash = $1, capabilities = $2, active = {} WHERE id = $3",
            db.pick("1", "TRUE")
        ),
        args![password_hash, capabilities, id],
    )
    .await
    .map(|_| ())
}

pub async fn customer_user_by_email(
    db: &Db,
    email: &str,
) -> Result<Option<CustomerUser>, sqlx::Error> {
    db.fetch_optional(
        &format!("SELECT {CUSTOMER_COLUMNS} FROM users WHERE email = $1"),
        args![email],
    )
    .await
}

/// The statement reading the person signed in to a live session of `plane`,
/// by the session's stored key ($1) and the time (epoch ms, $2): the session
/// and the person's row (`columns` of `table`) in one statement.
fn person_of_session(table: &str, columns: &str, plane: &str) -> String {
    let columns: Vec<String> = columns.split(", ").map(|c| format!("u.{c}")).collect();
    format!(
        "SELECT {} FROM sessions s JOIN {table} u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.plane = '{plane}' AND s.expires_at_ms > $2",
        columns.join(", ")
    )
}

/// The operator signed in to a live `/system` session.
pub async fn platform_user_of_session(
    db: &Db,
    session_key: &str,
    now_ms: i64,
) -> Result<Option<PlatformUser>, sqlx::Error> {
    let sql = person_of_session("platform_users", PLATFORM_COLUMNS, "system");
    db.fetch_optional(&sql, args![session_key, now_ms]).await
}

/// The customer user signed in to a live `/admin` session.
pub async fn customer_user_of_session(
    db: &Db,
    session_key: &str,
    now_ms: i64,
) -> Result<Option<CustomerUser>, sqlx::Error> {
    let sql = person_of_session("users", CUSTOMER_COLUMNS, "admin");
    db.fetch_optional(&sql, args![session_key, now_ms]).await
}

pub async fn insert_customer_user(
    db: &Db,
    workspace_id: i64,
    email: &str,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    db.scalar(
        "INSERT INTO users (workspace_id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        args![workspace_id, email, name, password_hash, now],
    )
    .await
}

/// Counts an attempt for `key` unless `limit` attempts already fall inside
/// the window; then returns the oldest of them (epoch ms) and counts nothing.
/// The check and the insert are one transaction under a per-key lock
/// (SQLite: the write lock; PostgreSQL: an advisory lock on the key), so
/// concurrent attempts from several processes never slip past the limit.
pub async fn record_login_attempt(
    db: &Db,
    key: &str,
    now_ms: i64,
    window_ms: i64,
    limit: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin().await?;
    if tx.backend() == Backend::Postgres {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))::text",
            args![key],
        )
        .await?;
    }
    let since = now_ms - window_ms;
    tx.execute(
        "DELETE FROM login_attempts WHERE throttle_key = $1 AND attempted_at_ms <= $2",
        args![key, since],
    )
    .await?;
    let (count, oldest): (i64, Option<i64>) = tx
        .fetch_one(
            "SELECT count(*), min(attempted_at_ms) FROM login_attempts WHERE throttle_key = $1 AND attempted_at_ms > $2",
            args![key, since],
        )
        .await?;
    if count >= limit {
        tx.rollback().await?;
        return Ok(Some(oldest.unwrap_or(now_ms)));
    }
    tx.execute(
        "INSERT INTO login_attempts (throttle_key, attempted_at_ms) VALUES ($1, $2)",
        args![key, now_ms],
    )
    .await?;
    tx.commit().await?;
    Ok(None)
}

/// Removes login attempts made at or before `cutoff_ms` (outside every window).
pub async fn delete_login_attempts_before(db: &Db, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
    db.execute(
        "DELETE FROM login_attempts WHERE attempted_at_ms <= $1",
        args![cutoff_ms],
    )
    .await
}

/// The deployment's secret called `name`: `candidate` is stored when there
/// is none yet, and whichever value is stored first is answered to every
/// process.
pub async fn deployment_secret(
    db: &Db,
    name: &str,
    candidate: &str,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    db.execute(
        "INSERT INTO deployment_secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
        args![name, candidate, now],
    )
    .await?;
    db.scalar(
        "SELECT value FROM deployment_secrets WHERE name = $1",
        args![name],
    )
    .await
}
