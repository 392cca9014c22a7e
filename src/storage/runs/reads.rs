//! Reads of runs as lists: every filter of the runs page (initiator, tenant,
//! dates, reason text beside runbook, status and outcome), the total they
//! match, the dashboard's slices, a run's failure groups, the tenants to
//! choose from, and the completed runs the metrics count.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Arg, Db};

/// Which runs a list shows; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub runbook: Option<String>,
    pub status: Option<String>,
    pub outcome: Option<String>,
    /// Matched, case-insensitively, within the initiator's email, user, host
    /// or release, or equal to its kind (`cli`, `deploy`, `platform_user`).
    pub initiator: Option<String>,
    /// Runs of this tenant: its tenant runs and the workspace runs it was in.
    pub tenant_id: Option<i64>,
    pub created_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_before: Option<DateTime<Utc>>,
    /// Matched, case-insensitively, within the run's reason.
    pub reason: Option<String>,
    /// `Some(true)`: one-tenant runs only; `Some(false)`: workspace runs only.
    pub one_tenant: Option<bool>,
    /// Completed with `failed` or `partially_succeeded` at or after this time.
    pub failed_since: Option<DateTime<Utc>>,
    /// Queued, running or paused runs only.
    pub active_only: bool,
}

/// `%text%` for LIKE, with the wildcards of `text` taken literally.
fn contains(text: &Option<String>) -> Option<String> {
    text.as_ref().map(|t| {
        let escaped = t
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    })
}

const SQLITE_REASON: &str = "lower(coalesce(json_extract(r.context, '$.reason'), ''))";
const PG_REASON: &str = "lower(coalesce(r.context::jsonb ->> 'reason', ''))";
const SQLITE_WHO: &str = "lower(coalesce(json_extract(r.context, '$.initiator.email'), '') || ' ' || \
     coalesce(json_extract(r.context, '$.initiator.os_user'), '') || ' ' || \
     coalesce(json_extract(r.context, '$.initiator.host'), '') || ' ' || \
     coalesce(json_extract(r.context, '$.initiator.release'), ''))";
const PG_WHO: &str = "lower(coalesce(r.context::jsonb -> 'initiator' ->> 'email', '') || ' ' || \
     coalesce(r.context::jsonb -> 'initiator' ->> 'os_user', '') || ' ' || \
     coalesce(r.context::jsonb -> 'initiator' ->> 'host', '') || ' ' || \
     coalesce(r.context::jsonb -> 'initiator' ->> 'release', ''))";
const SQLITE_KIND: &str = "json_extract(r.context, '$.initiator.kind')";
const PG_KIND: &str = "(r.context::jsonb -> 'initiator' ->> 'kind')";

/// The WHERE clause of a run query (arguments `$1`…`$12`) and its arguments.
fn filtered(db: &Db, q: &RunQuery) -> (String, Vec<Arg>) {
    let reason = db.pick(SQLITE_REASON, PG_REASON);
    let who = db.pick(SQLITE_WHO, PG_WHO);
    let kind = db.pick(SQLITE_KIND, PG_KIND);
    let sql = format!(
        "WHERE ($1 IS NULL OR r.type = $1) \
           AND ($2 IS NULL OR (r.status = $2 AND (r.status = 'completed' OR NOT r.paused)) \
                OR ($2 = 'paused' AND r.paused AND r.status <> 'completed')) \
           AND ($3 IS NULL OR r.outcome = $3) \
           AND ($4 IS NULL OR r.created_at >= $4) AND ($5 IS NULL OR r.created_at < $5) \
           AND ($6 IS NULL OR r.tenant_id = $6 OR EXISTS \
                (SELECT 1 FROM operation_run_tenants rt WHERE rt.run_id = r.id AND rt.tenant_id = $6)) \
           AND ($7 IS NULL OR {reason} LIKE $7 ESCAPE '\\') \
           AND ($8 IS NULL OR {who} LIKE $9 ESCAPE '\\' OR {kind} = $8) \
           AND ($10 IS NULL OR ($10 = 1 AND r.tenant_id IS NOT NULL) OR ($10 = 0 AND r.tenant_id IS NULL)) \
           AND ($11 IS NULL OR (r.outcome IN ('failed', 'partially_succeeded') AND r.completed_at >= $11)) \
           AND ($12 = 0 OR r.status <> 'completed')"
    );
    let args = args![
        q.runbook.clone(),
        q.status.clone(),
        q.outcome.clone(),
        q.created_from,
        q.created_before,
        q.tenant_id,
        contains(&q.reason),
        q.initiator.as_ref().map(|i| i.to_lowercase()),
        contains(&q.initiator),
        q.one_tenant.map(i64::from),
        q.failed_since,
        i64::from(q.active_only)
    ];
    (sql, args)
}

/// How many runs match.
pub async fn count(db: &Db, q: &RunQuery) -> Result<i64, sqlx::Error> {
    let (filter, args) = filtered(db, q);
    db.scalar(
        &format!("SELECT count(*) FROM operation_runs r {filter}"),
        args,
    )
    .await
}

/// The ids of one page of matching runs, newest first.
pub async fn page_ids(
    db: &Db,
    q: &RunQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let (filter, mut args) = filtered(db, q);
    args.push(limit.into());
    args.push(offset.max(0).into());
    let rows = db
        .fetch_all::<(i64,)>(
            &format!(
                "SELECT r.id FROM operation_runs r {filter} ORDER BY r.id DESC LIMIT $13 OFFSET $14"
            ),
            args,
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Tenant ids and external ids whose external id or name contains `text`,
/// those starting with it first, at most `limit`.
pub async fn search_tenants(
    db: &Db,
    workspace_id: i64,
    text: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let pattern = contains(&Some(text.to_owned()));
    let prefix = pattern.as_ref().map(|p| p[1..].to_owned());
    db.fetch_all(
        "SELECT external_id, name FROM tenants \
         WHERE workspace_id = $1 AND (lower(external_id) LIKE $2 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\') \
         ORDER BY CASE WHEN lower(external_id) LIKE $3 ESCAPE '\\' THEN 0 ELSE 1 END, external_id LIMIT $4",
        args![workspace_id, pattern, prefix, limit],
    )
    .await
}

/// How many tenants a workspace has.
pub async fn tenant_count(db: &Db, workspace_id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM tenants WHERE workspace_id = $1",
        args![workspace_id],
    )
    .await
}

/// The failures of a run grouped by reason code: tenants, failures and one
/// message of each, the most common first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FailureGroupRow {
    pub reason_code: String,
    pub tenants: i64,
    pub failures: i64,
    pub sample: String,
}

pub async fn failure_groups(db: &Db, run_id: i64) -> Result<Vec<FailureGroupRow>, sqlx::Error> {
    db.fetch_all(
        "SELECT reason_code, count(DISTINCT tenant_id) AS tenants, count(*) AS failures, \
                min(message) AS sample \
         FROM operation_run_failures WHERE run_id = $1 GROUP BY reason_code \
         ORDER BY count(DISTINCT tenant_id) DESC, reason_code",
        args![run_id],
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
