//! Statements of operation runs, their per-tenant results and failures.

use chrono::{DateTime, Utc};

use crate::args;
use crate::domain::run::{
    NewRun, Outcome, Run, RunContext, RunFailure, RunFilter, RunStatus, Scope, SummaryCounts,
    TenantResult,
};
use crate::storage::{Db, Exec, Tx};

/// At most this many failure rows are kept per tenant; the rest are summed up.
const FAILURES_PER_TENANT: usize = 20;

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    workspace_id: Option<i64>,
    tenant_id: Option<i64>,
    #[sqlx(rename = "type")]
    run_type: String,
    status: String,
    outcome: String,
    total: i64,
    processed: i64,
    succeeded: i64,
    failed: i64,
    items_updated: i64,
    items_skipped: i64,
    items_failed: i64,
    context: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str = "id, workspace_id, tenant_id, type, status, outcome, total, processed, succeeded, failed, \
     items_updated, items_skipped, items_failed, context, created_at, started_at, completed_at";

#[derive(sqlx::FromRow)]
struct FailureRow {
    run_id: i64,
    tenant_id: Option<i64>,
    tenant_external_id: Option<String>,
    reason_code: String,
    message: String,
}

impl FailureRow {
    fn into_failure(self) -> RunFailure {
        RunFailure {
            tenant_id: self.tenant_id,
            tenant_external_id: self.tenant_external_id,
            reason_code: self.reason_code,
            message: self.message,
        }
    }
}

impl RunRow {
    fn into_run(self, failures: Vec<RunFailure>) -> Result<Run, sqlx::Error> {
        let decode = |what: &str, v: &str| {
            sqlx::Error::Decode(format!("run {}: bad {what} {v:?}", self.id).into())
        };
        let status =
            RunStatus::parse(&self.status).ok_or_else(|| decode("status", &self.status))?;
        let outcome =
            Outcome::parse(&self.outcome).ok_or_else(|| decode("outcome", &self.outcome))?;
        let context: RunContext =
            serde_json::from_str(&self.context).map_err(|e| decode("context", &e.to_string()))?;
        Ok(Run {
            id: self.id,
            run_type: self.run_type,
            status,
            outcome,
            workspace_id: self.workspace_id,
            tenant_id: self.tenant_id,
            summary_counts: SummaryCounts {
                total: self.total,
                processed: self.processed,
                succeeded: self.succeeded,
                failed: self.failed,
                items_updated: self.items_updated,
                items_skipped: self.items_skipped,
                items_failed: self.items_failed,
            },
            failures,
            context,
            created_at: self.created_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
        })
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Run>, sqlx::Error> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM operation_runs WHERE id = $1");
    let Some(row) = db.fetch_optional::<RunRow>(&sql, args![id]).await? else {
        return Ok(None);
    };
    let failures = failures_of(db, &[id]).await?;
    row.into_run(failures.into_iter().map(|(_, f)| f).collect())
        .map(Some)
}

/// What a tenant job needs to know of its run (its runbook, whether it is
/// over) and of its tenant (its workspace, if it still exists).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunHead {
    #[sqlx(rename = "type")]
    pub run_type: String,
    pub status: String,
    pub tenant_workspace_id: Option<i64>,
}

impl RunHead {
    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }
}

pub async fn head(
    ex: &mut impl Exec,
    id: i64,
    tenant_id: i64,
) -> Result<Option<RunHead>, sqlx::Error> {
    ex.fetch_optional(
        "SELECT r.type, r.status, (SELECT t.workspace_id FROM tenants t WHERE t.id = $2) AS tenant_workspace_id \
         FROM operation_runs r WHERE r.id = $1",
        args![id, tenant_id],
    )
    .await
}

/// A run read inside a transaction (its first failures only).
pub async fn get_in_tx(tx: &mut Tx, id: i64) -> Result<Run, sqlx::Error> {
    let row = tx
        .fetch_one::<RunRow>(
            &format!("SELECT {RUN_COLUMNS} FROM operation_runs WHERE id = $1"),
            args![id],
        )
        .await?;
    let failures = tx
        .fetch_all::<FailureRow>(
            "SELECT f.run_id, f.tenant_id, t.external_id AS tenant_external_id, f.reason_code, f.message \
             FROM operation_run_failures f LEFT JOIN tenants t ON t.id = f.tenant_id \
             WHERE f.run_id = $1 ORDER BY f.id LIMIT 20",
            args![id],
        )
        .await?;
    row.into_run(failures.into_iter().map(FailureRow::into_failure).collect())
}

pub async fn list(db: &Db, filter: &RunFilter) -> Result<Vec<Run>, sqlx::Error> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM operation_runs \
         WHERE ($1 IS NULL OR type = $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR outcome = $3) \
           AND ($4 IS NULL OR workspace_id = $4) \
         ORDER BY id DESC LIMIT $5 OFFSET $6"
    );
    let rows = db
        .fetch_all::<RunRow>(
            &sql,
            args![
                filter.runbook.clone(),
                filter.status.map(|s| s.as_str().to_owned()),
                filter.outcome.map(|o| o.as_str().to_owned()),
                filter.workspace_id,
                if filter.limit > 0 { filter.limit } else { 50 },
                filter.offset.max(0)
            ],
        )
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut failures = failures_of(db, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let mine = failures
                .iter()
                .filter(|(run_id, _)| *run_id == row.id)
                .map(|(_, f)| f.clone())
                .collect();
            failures.retain(|(run_id, _)| *run_id != row.id);
            row.into_run(mine)
        })
        .collect()
}

async fn failures_of(db: &Db, run_ids: &[i64]) -> Result<Vec<(i64, RunFailure)>, sqlx::Error> {
    if run_ids.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=run_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT f.run_id, f.tenant_id, t.external_id AS tenant_external_id, f.reason_code, f.message \
         FROM operation_run_failures f LEFT JOIN tenants t ON t.id = f.tenant_id \
         WHERE f.run_id IN ({}) ORDER BY f.id",
        placeholders.join(", ")
    );
    let rows = db
        .fetch_all::<FailureRow>(&sql, run_ids.iter().map(|id| (*id).into()).collect())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.run_id,
                RunFailure {
                    tenant_id: r.tenant_id,
                    tenant_external_id: r.tenant_external_id,
                    reason_code: r.reason_code,
                    message: r.message,
                },
            )
        })
        .collect())
}

pub async fn active_by_identity(db: &Db, identity: &str) -> Result<Option<i64>, sqlx::Error> {
    db.fetch_optional::<(i64,)>(
        "SELECT id FROM operation_runs WHERE run_identity = $1 AND status IN ('queued', 'running')",
        args![identity],
    )
    .await
    .map(|r| r.map(|(id,)| id))
}

/// Inserts the run unless an active run has its identity (the partial unique
/// index decides, also under concurrency). Returns the new id.
pub async fn insert_if_no_active(
    tx: &mut Tx,
    new: &NewRun,
    identity: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let context =
        serde_json::to_string(&new.context).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    tx.fetch_optional::<(i64,)>(
        "INSERT INTO operation_runs (workspace_id, tenant_id, type, status, outcome, run_identity, context, created_at) \
         VALUES ($1, $2, $3, 'queued', 'pending', $4, $5, $6) \
         ON CONFLICT (run_identity) WHERE status IN ('queued', 'running') DO NOTHING \
         RETURNING id",
        args![new.workspace_id, new.tenant_id(), new.runbook.clone(), identity, context, now],
    )
    .await
    .map(|r| r.map(|(id,)| id))
}

/// One row per tenant in scope, set-based. Returns the total.
pub async fn insert_run_tenants(
    tx: &mut Tx,
    run_id: i64,
    new: &NewRun,
) -> Result<i64, sqlx::Error> {
    let (filter, key) = match &new.context.scope {
        Scope::AllTenants => ("t.workspace_id = $2", new.workspace_id),
        Scope::Tenant { tenant_id, .. } => ("t.id = $2", *tenant_id),
        Scope::Tenants { retry_of, .. } => (
            "t.id IN (SELECT tenant_id FROM operation_run_tenants WHERE run_id = $2 AND state = 'failed')",
            *retry_of,
        ),
    };
    let total = tx
        .execute(
            &format!(
                "INSERT INTO operation_run_tenants (run_id, tenant_id, state) \
                 SELECT $1, t.id, 'pending' FROM tenants t WHERE {filter}"
            ),
            args![run_id, key],
        )
        .await? as i64;
    tx.execute(
        "UPDATE operation_runs SET total = $2 WHERE id = $1",
        args![run_id, total],
    )
    .await?;
    Ok(total)
}

pub async fn mark_running(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE operation_runs SET status = 'running', started_at = $2 WHERE id = $1 AND status = 'queued'",
        args![run_id, now],
    )
    .await
    .map(|_| ())
}

pub async fn record_chunk(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    items: i64,
) -> Result<bool, sqlx::Error> {
    tx.execute(
        "UPDATE operation_run_tenants SET items_updated = items_updated + $3 \
         WHERE run_id = $1 AND tenant_id = $2 AND state IN ('pending', 'running')",
        args![run_id, tenant_id, items],
    )
    .await?;
    // The run row is touched last: it is the row every tenant job shares.
    let n = tx
        .execute(
            "UPDATE operation_runs SET items_updated = items_updated + $2 WHERE id = $1 AND status <> 'completed'",
            args![run_id, items],
        )
        .await?;
    Ok(n == 1)
}

/// Records the tenant's result if it has none yet. Returns whether it counted.
pub async fn finish_tenant(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    result: &TenantResult,
    now: DateTime<Utc>,
) -> Result<Counted, sqlx::Error> {
    let state = if result.succeeded() {
        "succeeded"
    } else {
        "failed"
    };
    let skipped = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_run_tenants SET state = $3, items_failed = $4, \
                 items_skipped = CASE WHEN $5 - items_updated > 0 THEN $5 - items_updated ELSE 0 END, \
                 finished_at = $6 \
             WHERE run_id = $1 AND tenant_id = $2 AND state IN ('pending', 'running') \
             RETURNING items_skipped",
            args![run_id, tenant_id, state, result.items_failed, result.items_in_target_state, now],
        )
        .await?;
    let Some((skipped,)) = skipped else {
        return Ok(Counted::No);
    };
    for failure in result.failures.iter().take(FAILURES_PER_TENANT) {
        insert_failure(
            tx,
            run_id,
            Some(tenant_id),
            &failure.reason_code,
            &failure.message,
            now,
        )
        .await?;
    }
    if result.failures.len() > FAILURES_PER_TENANT {
        let more = result.failures.len() - FAILURES_PER_TENANT;
        let code = &result.failures[FAILURES_PER_TENANT].reason_code;
        insert_failure(
            tx,
            run_id,
            Some(tenant_id),
            code,
            &format!("and {more} more failure(s) like these"),
            now,
        )
        .await?;
    }
    let (ok, failed): (i64, i64) = if result.succeeded() { (1, 0) } else { (0, 1) };
    // Counting and, for the last tenant, completing are one statement on the
    // row every tenant job shares, so its lock is held briefly.
    let status = tx
        .fetch_optional::<(String,)>(
            "UPDATE operation_runs SET processed = processed + 1, succeeded = succeeded + $2, \
                 failed = failed + $3, items_skipped = items_skipped + $4, items_failed = items_failed + $5, \
                 status = CASE WHEN processed + 1 >= total THEN 'completed' ELSE status END, \
                 completed_at = CASE WHEN processed + 1 >= total THEN $6 ELSE completed_at END, \
                 started_at = COALESCE(started_at, $6), \
                 outcome = CASE WHEN processed + 1 < total THEN outcome \
                                WHEN failed + $3 = 0 THEN 'succeeded' \
                                WHEN succeeded + $2 = 0 THEN 'failed' \
                                ELSE 'partially_succeeded' END \
             WHERE id = $1 AND status <> 'completed' RETURNING status",
            args![run_id, ok, failed, skipped, result.items_failed, now],
        )
        .await?;
    Ok(match status {
        Some((s,)) if s == "completed" => Counted::AndCompleted,
        _ => Counted::Yes,
    })
}

/// Whether a tenant's result counted, and whether it completed the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    No,
    Yes,
    AndCompleted,
}

async fn insert_failure(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: Option<i64>,
    reason_code: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        "INSERT INTO operation_run_failures (run_id, tenant_id, reason_code, message, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        args![run_id, tenant_id, reason_code, message, now],
    )
    .await
    .map(|_| ())
}

pub async fn complete_if_done(
    tx: &mut Tx,
    run_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let row = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_runs SET status = 'completed', completed_at = $2, \
                 started_at = COALESCE(started_at, $2), \
                 outcome = CASE WHEN failed = 0 THEN 'succeeded' WHEN succeeded = 0 THEN 'failed' \
                                ELSE 'partially_succeeded' END \
             WHERE id = $1 AND status <> 'completed' AND processed >= total \
             RETURNING id",
            args![run_id, now],
        )
        .await?;
    Ok(row.is_some())
}

/// Completes the run as cancelled and its unfinished tenants with it.
/// Returns false when the run was already completed.
pub async fn cancel(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let row = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_runs SET status = 'completed', outcome = 'cancelled', completed_at = $2, \
                 started_at = COALESCE(started_at, $2) \
             WHERE id = $1 AND status <> 'completed' RETURNING id",
            args![run_id, now],
        )
        .await?;
    if row.is_none() {
        return Ok(false);
    }
    tx.execute(
        "UPDATE operation_run_tenants SET state = 'cancelled', finished_at = $2 \
         WHERE run_id = $1 AND state IN ('pending', 'running')",
        args![run_id, now],
    )
    .await?;
    Ok(true)
}

pub async fn tenants_in_state(db: &Db, run_id: i64, state: &str) -> Result<Vec<i64>, sqlx::Error> {
    let rows = db
        .fetch_all::<(i64,)>(
            "SELECT tenant_id FROM operation_run_tenants WHERE run_id = $1 AND state = $2 ORDER BY tenant_id",
            args![run_id, state],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
