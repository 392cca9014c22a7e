//! Read models the consoles show beside runs: operator notifications, the
//! audit log, and a workspace's findings for the customer plane.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Arg, Db};

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

/// A notification for an operator (used by tests and by whoever completes runs).
pub async fn insert_notification(
    db: &Db,
    platform_user_id: i64,
    kind: &str,
    title: &str,
    body: &serde_json::Value,
    url: Option<String>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    db.scalar(
        "INSERT INTO notifications (platform_user_id, kind, title, body, url, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        args![platform_user_id, kind, title, body.to_string(), url, now],
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_kind: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn audit_events(
    db: &Db,
    action: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, actor_kind, actor_email, action, subject, detail, ip, created_at FROM audit_events \
         WHERE ($1 IS NULL OR action LIKE $1) ORDER BY id DESC LIMIT $2 OFFSET $3",
        args![action.map(|a| format!("{a}%")), limit, offset],
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FindingRow {
    pub id: i64,
    pub tenant_external_id: String,
    pub title: String,
    pub severity: String,
    pub legacy_state: String,
    pub status: Option<String>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub tenant_external_id: Option<String>,
}

/// Findings of a workspace (through their tenant, so legacy rows without a
/// `workspace_id` are included), newest first.
pub async fn findings(
    db: &Db,
    workspace_id: i64,
    filter: &FindingFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<FindingRow>, sqlx::Error> {
    let args: Vec<Arg> = args![
        workspace_id,
        filter.status.clone(),
        filter.severity.clone(),
        filter.tenant_external_id.clone(),
        limit,
        offset
    ];
    db.fetch_all(
        "SELECT f.id, t.external_id AS tenant_external_id, f.title, f.severity, f.legacy_state, f.status, \
                f.sla_due_at, f.last_seen_at \
         FROM findings f JOIN tenants t ON t.id = f.tenant_id \
         WHERE t.workspace_id = $1 AND ($2 IS NULL OR f.status = $2) AND ($3 IS NULL OR f.severity = $3) \
           AND ($4 IS NULL OR t.external_id = $4) \
         ORDER BY f.id DESC LIMIT $5 OFFSET $6",
        args,
    )
    .await
}

/// Completed runs by outcome, for the metrics scrape.
pub async fn completed_runs_by_outcome(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    db.fetch_all(
        "SELECT outcome, count(*) FROM operation_runs WHERE status = 'completed' GROUP BY outcome",
        args![],
    )
    .await
}
