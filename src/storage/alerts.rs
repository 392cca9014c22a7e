//! Statements of alert destinations, rules and deliveries, and of the
//! in-app notifications a completed run leaves.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::args;
use crate::storage::{Db, Exec, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DestinationRow {
    pub id: i64,
    pub name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub config: String,
    pub created_at: DateTime<Utc>,
    /// A disabled destination is sent nothing.
    pub enabled: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RuleRow {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown_seconds: i64,
    pub quiet_hours: Option<String>,
    pub timezone: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A disabled rule matches no event.
    pub enabled: bool,
}

/// A delivery as `alerts deliveries list --json` shows it (Appendix A).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub rule_id: Option<i64>,
    pub destination_id: Option<i64>,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub deliver_after: Option<DateTime<Utc>>,
    pub run_id: Option<i64>,
    /// Why it was not sent (cooldown, a disabled destination).
    pub suppressed_reason: Option<String>,
    /// The queued job that sends it.
    pub job_id: Option<i64>,
}

pub struct NewDelivery<'a> {
    pub workspace_id: i64,
    pub rule_id: Option<i64>,
    pub destination_id: i64,
    pub event: &'a str,
    pub event_key: &'a str,
    pub fingerprint: &'a str,
    pub severity: &'a str,
    pub run_id: Option<i64>,
    pub payload: &'a str,
    pub status: &'a str,
    pub deliver_after: Option<DateTime<Utc>>,
}

pub async fn insert_destination(
    db: &Db,
    workspace_id: i64,
    name: &str,
    kind: &str,
    config: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    db.scalar(
        "INSERT INTO alert_destinations (workspace_id, name, type, config, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
        args![workspace_id, name, kind, config, now],
    )
    .await
}

pub async fn destinations(db: &Db, workspace_id: i64) -> Result<Vec<DestinationRow>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, name, type, config, created_at, enabled FROM alert_destinations WHERE workspace_id = $1 ORDER BY id",
        args![workspace_id],
    )
    .await
}

pub async fn destination(
    db: &Db,
    workspace_id: i64,
    id: i64,
) -> Result<Option<DestinationRow>, sqlx::Error> {
    db.fetch_optional(
        "SELECT id, name, type, config, created_at, enabled FROM alert_destinations WHERE workspace_id = $1 AND id = $2",
        args![workspace_id, id],
    )
    .await
}

/// Links and deliveries follow by the foreign keys (cascade, set null).
pub async fn delete_destination(db: &Db, workspace_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let n = db
        .execute(
            "DELETE FROM alert_destinations WHERE workspace_id = $1 AND id = $2",
            args![workspace_id, id],
        )
        .await?;
    Ok(n == 1)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_rule(
    db: &Db,
    workspace_id: i64,
    name: &str,
    event: &str,
    min_severity: &str,
    cooldown_seconds: i64,
    quiet: Option<(String, String)>,
    destination_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (quiet_hours, timezone) = match quiet {
        Some((w, tz)) => (Some(w), Some(tz)),
        None => (None, None),
    };
    let mut tx = db.begin().await?;
    let id: i64 = tx
        .scalar(
            "INSERT INTO alert_rules (workspace_id, name, event, min_severity, cooldown_seconds, quiet_hours, timezone, \
                 created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            args![workspace_id, name, event, min_severity, cooldown_seconds, quiet_hours, timezone, now],
        )
        .await?;
    for d in destination_ids {
        tx.execute(
            "INSERT INTO alert_rule_destinations (rule_id, destination_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            args![id, *d],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn rules(db: &Db, workspace_id: i64) -> Result<Vec<RuleRow>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, name, event, min_severity, cooldown_seconds, quiet_hours, timezone, created_at, enabled \
         FROM alert_rules WHERE workspace_id = $1 ORDER BY id",
        args![workspace_id],
    )
    .await
}

pub async fn rules_for_event(
    tx: &mut Tx,
    workspace_id: i64,
    event: &str,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    tx.fetch_all(
        "SELECT id, name, event, min_severity, cooldown_seconds, quiet_hours, timezone, created_at, enabled \
         FROM alert_rules WHERE workspace_id = $1 AND event = $2 AND enabled = $3 ORDER BY id",
        args![workspace_id, event, true],
    )
    .await
}

pub async fn rule_destinations(db: &Db) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    db.fetch_all(
        "SELECT rule_id, destination_id FROM alert_rule_destinations ORDER BY rule_id, destination_id",
        args![],
    )
    .await
}

pub async fn destinations_of_rule(tx: &mut Tx, rule_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            "SELECT destination_id FROM alert_rule_destinations WHERE rule_id = $1 ORDER BY destination_id",
            args![rule_id],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Links and deliveries follow by the foreign keys (cascade, set null).
pub async fn delete_rule(db: &Db, workspace_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let n = db
        .execute(
            "DELETE FROM alert_rules WHERE workspace_id = $1 AND id = $2",
            args![workspace_id, id],
        )
        .await?;
    Ok(n == 1)
}

/// Whether the rule already alerted about this fingerprint since `since`.
pub async fn recently_alerted(
    tx: &mut Tx,
    rule_id: i64,
    fingerprint: &str,
    since: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n: i64 = tx
        .scalar(
            "SELECT count(*) FROM alert_deliveries WHERE rule_id = $1 AND fingerprint = $2 \
             AND status IN ('queued', 'sent', 'deferred') AND created_at >= $3",
            args![rule_id, fingerprint, since],
        )
        .await?;
    Ok(n > 0)
}

/// Inserts the delivery unless this rule × destination × event already has one.
pub async fn insert_delivery(
    tx: &mut Tx,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "INSERT INTO alert_deliveries (workspace_id, rule_id, destination_id, event, event_key, fingerprint, \
                 severity, run_id, payload, status, deliver_after, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (rule_id, destination_id, event_key) DO NOTHING RETURNING id",
            args![
                d.workspace_id,
                d.rule_id,
                d.destination_id,
                d.event,
                d.event_key,
                d.fingerprint,
                d.severity,
                d.run_id,
                d.payload,
                d.status,
                d.deliver_after,
                now
            ],
        )
        .await?;
    Ok(row.map(|r| r.0))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingDelivery {
    pub id: i64,
    pub status: String,
    pub payload: String,
    pub destination_id: Option<i64>,
    pub workspace_id: i64,
}

pub async fn pending_delivery(db: &Db, id: i64) -> Result<Option<PendingDelivery>, sqlx::Error> {
    db.fetch_optional(
        "SELECT id, status, payload, destination_id, workspace_id FROM alert_deliveries WHERE id = $1",
        args![id],
    )
    .await
}

/// Records an attempt; `sent` ends the delivery, an error keeps it queued.
pub async fn record_attempt(
    db: &Db,
    id: i64,
    result: Result<(), &str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    match result {
        Ok(()) => db.execute(
            "UPDATE alert_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = $2, last_error = NULL \
             WHERE id = $1 AND status IN ('queued', 'deferred')",
            args![id, now],
        ),
        Err(e) => db.execute(
            "UPDATE alert_deliveries SET status = 'queued', attempts = attempts + 1, last_error = $2 \
             WHERE id = $1 AND status IN ('queued', 'deferred')",
            args![id, e],
        ),
    }
    .await
    .map(|_| ())
}

pub async fn mark_failed(ex: &mut impl Exec, id: i64) -> Result<(), sqlx::Error> {
    ex.execute(
        "UPDATE alert_deliveries SET status = 'failed' WHERE id = $1 AND status IN ('queued', 'deferred')",
        args![id],
    )
    .await
    .map(|_| ())
}

pub async fn deliveries(
    db: &Db,
    workspace_id: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    db.fetch_all(
        "SELECT id, rule_id, destination_id, event, status, attempts, last_error, created_at, sent_at, deliver_after, \
                run_id, suppressed_reason, job_id \
         FROM alert_deliveries WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
        args![workspace_id, limit],
    )
    .await
}

/// The run completed before `run_id` with its identity (same runbook and
/// scope): its id and outcome, for the recovery notice.
pub async fn previous_completed_run(
    tx: &mut Tx,
    run_id: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    tx.fetch_optional(
        "SELECT p.id, p.outcome FROM operation_runs r \
         JOIN operation_runs p ON p.run_identity = r.run_identity \
         WHERE r.id = $1 AND p.id < r.id AND p.status = 'completed' \
         ORDER BY p.id DESC LIMIT 1",
        args![run_id],
    )
    .await
}
