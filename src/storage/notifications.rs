//! Statements of operators' in-app notifications: written when a run they
//! started ends, listed, counted unread and marked read.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Db, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn unread_count(db: &Db, platform_user_id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM notifications WHERE platform_user_id = $1 AND read_at IS NULL",
        args![platform_user_id],
    )
    .await
}

pub async fn notifications(
    db: &Db,
    platform_user_id: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, kind, title, body, url, read_at, created_at FROM notifications \
         WHERE platform_user_id = $1 AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $3 OFFSET $4",
        args![platform_user_id, i64::from(unread_only), limit, offset],
    )
    .await
}

/// Marks one notification (or, with `None`, all) of this operator read.
/// Returns how many changed; another operator's notification never does.
pub async fn mark_read(
    db: &Db,
    platform_user_id: i64,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    db.execute(
        "UPDATE notifications SET read_at = $1 WHERE platform_user_id = $2 AND read_at IS NULL AND ($3 IS NULL OR id = $3)",
        args![now, platform_user_id, id],
    )
    .await
}

/// A notification for an operator, in the transaction of what it tells of
/// (written only while the operator exists); its id.
pub async fn insert(
    tx: &mut Tx,
    platform_user_id: i64,
    kind: &str,
    title: &str,
    body: &str,
    url: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "INSERT INTO notifications (platform_user_id, kind, title, body, url, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM platform_users WHERE id = $1) \
             RETURNING id",
            args![platform_user_id, kind, title, body, url, now],
        )
        .await?;
    Ok(row.map(|r| r.0))
}
