//! Statements of alert routing as the console changes and explains it:
//! editing and pausing destinations and rules, why a delivery was not sent,
//! the job that sends it, retrying a failed one, and numbered pages of
//! deliveries.

use crate::args;
use crate::storage::alerts::Delivery;
use crate::storage::{Db, Exec, Tx};

pub async fn update_destination(
    db: &Db,
    workspace_id: i64,
    id: i64,
    name: &str,
    config: &str,
) -> Result<bool, sqlx::Error> {
    let n = db
        .execute(
            "UPDATE alert_destinations SET name = $3, config = $4 WHERE workspace_id = $1 AND id = $2",
            args![workspace_id, id, name, config],
        )
        .await?;
    Ok(n == 1)
}

pub async fn set_destination_enabled(
    db: &Db,
    workspace_id: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    set_enabled(db, "alert_destinations", workspace_id, id, enabled).await
}

pub async fn set_rule_enabled(
    db: &Db,
    workspace_id: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    set_enabled(db, "alert_rules", workspace_id, id, enabled).await
}

/// `table` is one of the two literals above, never input.
async fn set_enabled(
    db: &Db,
    table: &str,
    workspace_id: i64,
    id: i64,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    let n = db
        .execute(
            &format!("UPDATE {table} SET enabled = $3 WHERE workspace_id = $1 AND id = $2"),
            args![workspace_id, id, enabled],
        )
        .await?;
    Ok(n == 1)
}

/// A rule's new settings; its destinations are replaced.
pub struct RuleChange<'a> {
    pub name: &'a str,
    pub event: &'a str,
    pub min_severity: &'a str,
    pub cooldown_seconds: i64,
    pub quiet: Option<(String, String)>,
    pub destination_ids: &'a [i64],
}

pub async fn update_rule(
    db: &Db,
    workspace_id: i64,
    id: i64,
    c: &RuleChange<'_>,
) -> Result<bool, sqlx::Error> {
    let (quiet_hours, timezone) = match c.quiet.clone() {
        Some((w, tz)) => (Some(w), Some(tz)),
        None => (None, None),
    };
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            "UPDATE alert_rules SET name = $3, event = $4, min_severity = $5, cooldown_seconds = $6, \
                 quiet_hours = $7, timezone = $8 \
             WHERE workspace_id = $1 AND id = $2",
            args![
                workspace_id,
                id,
                c.name,
                c.event,
                c.min_severity,
                c.cooldown_seconds,
                quiet_hours,
                timezone
            ],
        )
        .await?;
    if n != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    tx.execute(
        "DELETE FROM alert_rule_destinations WHERE rule_id = $1",
        args![id],
    )
    .await?;
    for d in c.destination_ids {
        tx.execute(
            "INSERT INTO alert_rule_destinations (rule_id, destination_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            args![id, *d],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The destinations of a rule and whether each is enabled.
pub async fn rule_targets(tx: &mut Tx, rule_id: i64) -> Result<Vec<(i64, bool)>, sqlx::Error> {
    tx.fetch_all(
        "SELECT d.id, d.enabled FROM alert_rule_destinations rd \
         JOIN alert_destinations d ON d.id = rd.destination_id \
         WHERE rd.rule_id = $1 ORDER BY d.id",
        args![rule_id],
    )
    .await
}

pub async fn set_suppressed_reason(
    ex: &mut impl Exec,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    ex.execute(
        "UPDATE alert_deliveries SET suppressed_reason = $2 WHERE id = $1",
        args![id, reason],
    )
    .await
    .map(|_| ())
}

/// A delivery not sent after all (its destination was disabled meanwhile).
pub async fn mark_suppressed(db: &Db, id: i64, reason: &str) -> Result<(), sqlx::Error> {
    db.execute(
        "UPDATE alert_deliveries SET status = 'suppressed', suppressed_reason = $2 \
         WHERE id = $1 AND status IN ('queued', 'deferred')",
        args![id, reason],
    )
    .await
    .map(|_| ())
}

/// The queued job that sends this delivery.
pub async fn link_job(tx: &mut Tx, id: i64, job_id: i64) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE alert_deliveries SET job_id = $2 WHERE id = $1",
        args![id, job_id],
    )
    .await
    .map(|_| ())
}

/// A failed delivery queued again; false when it is not failed (or not
/// of this workspace).
pub async fn requeue_failed(tx: &mut Tx, workspace_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let n = tx
        .execute(
            "UPDATE alert_deliveries SET status = 'queued', suppressed_reason = NULL \
             WHERE workspace_id = $1 AND id = $2 AND status = 'failed'",
            args![workspace_id, id],
        )
        .await?;
    Ok(n == 1)
}

const DELIVERY_COLUMNS: &str = "id, rule_id, destination_id, event, status, attempts, last_error, created_at, \
     sent_at, deliver_after, run_id, suppressed_reason, job_id";

pub async fn delivery(
    db: &Db,
    workspace_id: i64,
    id: i64,
) -> Result<Option<Delivery>, sqlx::Error> {
    db.fetch_optional(
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE workspace_id = $1 AND id = $2"
        ),
        args![workspace_id, id],
    )
    .await
}

/// One page of deliveries, newest first.
pub async fn deliveries_page(
    db: &Db,
    workspace_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    db.fetch_all(
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE workspace_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ),
        args![workspace_id, limit, offset],
    )
    .await
}

pub async fn count_deliveries(db: &Db, workspace_id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM alert_deliveries WHERE workspace_id = $1",
        args![workspace_id],
    )
    .await
}

/// How many deliveries are newer than this one (its place in the list).
pub async fn newer_than(db: &Db, workspace_id: i64, id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM alert_deliveries WHERE workspace_id = $1 AND id > $2",
        args![workspace_id, id],
    )
    .await
}
