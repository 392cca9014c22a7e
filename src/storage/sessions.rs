//! Statements of the web sessions of both planes.
//!
//! One table, `sessions`, with a `plane` column: every statement names the
//! plane, so one plane's rows are never read or changed through the other
//! (SR-004). Rows are keyed by a digest of the session id (the caller's),
//! so reading the table yields no cookie.

use crate::args;
use crate::storage::Db;

/// A session's row as written: its data, who signed in to it (also held in
/// the data, and kept here so a request can read its person with its
/// session) and its expiry.
#[derive(Debug, Clone, Copy)]
pub struct SessionRow<'a> {
    pub key: &'a str,
    pub plane: &'a str,
    pub data: &'a str,
    pub user_id: Option<i64>,
    pub expires_at_ms: i64,
}

/// Inserts a new session; false when the key is already taken.
pub async fn insert(db: &Db, row: SessionRow<'_>) -> Result<bool, sqlx::Error> {
    let inserted = db
        .execute(
            "INSERT INTO sessions (id, plane, data, user_id, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            args![row.key, row.plane, row.data, row.user_id, row.expires_at_ms],
        )
        .await?;
    Ok(inserted == 1)
}

/// Writes a session of this plane; a row of the other plane is left alone.
pub async fn save(db: &Db, row: SessionRow<'_>) -> Result<(), sqlx::Error> {
    db.execute(
        "INSERT INTO sessions (id, plane, data, user_id, expires_at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, user_id = excluded.user_id, \
         expires_at_ms = excluded.expires_at_ms WHERE sessions.plane = excluded.plane",
        args![row.key, row.plane, row.data, row.user_id, row.expires_at_ms],
    )
    .await
    .map(|_| ())
}

/// A live session of this plane: its data and expiry (epoch ms).
pub async fn load(
    db: &Db,
    key: &str,
    plane: &str,
    now_ms: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    db.fetch_optional(
        "SELECT data, expires_at_ms FROM sessions WHERE id = $1 AND plane = $2 AND expires_at_ms > $3",
        args![key, plane, now_ms],
    )
    .await
}

pub async fn delete(db: &Db, key: &str, plane: &str) -> Result<(), sqlx::Error> {
    db.execute(
        "DELETE FROM sessions WHERE id = $1 AND plane = $2",
        args![key, plane],
    )
    .await
    .map(|_| ())
}

/// Removes expired sessions of every plane.
pub async fn delete_expired(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    db.execute(
        "DELETE FROM sessions WHERE expires_at_ms < $1",
        args![now_ms],
    )
    .await
}
