//! Statements of operation runs and their failures (this file), and, one
//! submodule each, a run's tenant rows (`tenants`), its controls and gate
//! (`controls`), its jobs (`jobs`) and runs read as lists (`reads`).

pub mod controls;
pub mod jobs;
pub mod reads;
pub mod tenants;

use chrono::{DateTime, Utc};

use crate::args;
use crate::domain::run::{
    NewRun, Outcome, Progress, Run, RunContext, RunFailure, RunFilter, RunStatus, SummaryCounts,
};
use crate::domain::run_controls::RunLimits;
use crate::storage::{Db, Exec, Tx};

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
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    min_finished: Option<i64>,
    paused: bool,
    reason_code: Option<String>,
    items_expected: Option<i64>,
    not_started: i64,
    paused_ms: i64,
    paused_since_ms: Option<i64>,
}

const RUN_COLUMNS: &str = "id, workspace_id, tenant_id, type, status, outcome, total, processed, succeeded, failed, \
     items_updated, items_skipped, items_failed, context, created_at, started_at, completed_at, \
     max_concurrency, max_errors, min_finished, paused, reason_code, items_expected, not_started, paused_ms, paused_since_ms";

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
        let status = match RunStatus::parse(&self.status) {
            Some(RunStatus::Completed) => RunStatus::Completed,
            Some(_) if self.paused => RunStatus::Paused,
            Some(s) => s,
            None => return Err(decode("status", &self.status)),
        };
        let outcome =
            Outcome::parse(&self.outcome).ok_or_else(|| decode("outcome", &self.outcome))?;
        let context: RunContext =
            serde_json::from_str(&self.context).map_err(|e| decode("context", &e.to_string()))?;
        let summary_counts = SummaryCounts {
            total: self.total,
            processed: self.processed,
            succeeded: self.succeeded,
            failed: self.failed,
            items_updated: self.items_updated,
            items_skipped: self.items_skipped,
            items_failed: self.items_failed,
        };
        Ok(Run {
            id: self.id,
            run_type: self.run_type,
            status,
            outcome,
            workspace_id: self.workspace_id,
            tenant_id: self.tenant_id,
            progress: Progress::of(&summary_counts, self.not_started, outcome.stage()),
            summary_counts,
            failures,
            context,
            created_at: self.created_at,
            started_at: self.started_at,
            completed_at: self.completed_at,
            limits: RunLimits {
                max_concurrency: self.max_concurrency,
                max_errors: self.max_errors,
                min_finished: self.min_finished,
            },
            reason_code: self.reason_code,
            items_expected: self.items_expected,
            not_started: self.not_started,
            paused_ms: self.paused_ms,
            paused_since_ms: self.paused_since_ms,
            estimate: None,
            retries: Vec::new(),
        })
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Run>, sqlx::Error> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM operation_runs WHERE id = $1");
    // The row first, then its failures: failures are only ever added, in
    // the transaction that counts their tenant, so a later read holds every
    // failure the row's counts include. (Read side by side, the failures
    // could come from before the row's snapshot: a completed run with no
    // failures, seen under load.)
    let Some(row) = db.fetch_optional::<RunRow>(&sql, args![id]).await? else {
        return Ok(None);
    };
    let failures = failures_of(db, &[id]).await?;
    row.into_run(failures.into_iter().map(|(_, f)| f).collect())
        .map(Some)
}

/// Whether the run is completed; false for a run that does not exist.
pub async fn is_completed(ex: &mut impl Exec, id: i64) -> Result<bool, sqlx::Error> {
    let row = ex
        .fetch_optional::<(String,)>("SELECT status FROM operation_runs WHERE id = $1", args![id])
        .await?;
    Ok(row.is_some_and(|(status,)| status == "completed"))
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
         WHERE ($1 IS NULL OR type = $1) AND ($3 IS NULL OR outcome = $3) \
           AND ($2 IS NULL OR (status = $2 AND (status = 'completed' OR NOT paused)) \
                OR ($2 = 'paused' AND paused AND status <> 'completed')) \
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
    let limits = &new.limits;
    tx.fetch_optional::<(i64,)>(
        "INSERT INTO operation_runs (workspace_id, tenant_id, type, status, outcome, run_identity, context, created_at, \
             max_concurrency, max_errors, min_finished, retry_of) \
         VALUES ($1, $2, $3, 'queued', 'pending', $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (run_identity) WHERE status IN ('queued', 'running') DO NOTHING \
         RETURNING id",
        args![
            new.workspace_id,
            new.tenant_id(),
            new.runbook.clone(),
            identity,
            context,
            now,
            limits.max_concurrency.clone(),
            limits.max_errors.clone(),
            limits.min_finished,
            new.context.retry_of
        ],
    )
    .await
    .map(|r| r.map(|(id,)| id))
}

pub async fn mark_running(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE operation_runs SET status = 'running', started_at = $2 WHERE id = $1 AND status = 'queued'",
        args![run_id, now],
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
                 outcome = CASE WHEN reason_code IS NOT NULL THEN 'failed' \
                                WHEN failed = 0 THEN 'succeeded' WHEN succeeded = 0 THEN 'failed' \
                                ELSE 'partially_succeeded' END \
             WHERE id = $1 AND status <> 'completed' AND processed >= total \
             RETURNING id",
            args![run_id, now],
        )
        .await?;
    Ok(row.is_some())
}

/// Completes the run as cancelled and its unfinished tenants with it: the
/// tenant rows first, in tenant order, then the run's row (the one order;
/// the caller has dropped the run's queued jobs before). Returns false when
/// the run was already completed; the caller rolls back then.
pub async fn cancel(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let rows = tenants::tenant_rows_in_order(tx.backend(), "state IN ('queued', 'running')");
    tx.execute(
        &format!(
            "UPDATE operation_run_tenants SET state = 'cancelled', finished_at = $2 \
             WHERE {rows} AND state IN ('queued', 'running')"
        ),
        args![run_id, now],
    )
    .await?;
    let row = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_runs SET status = 'completed', outcome = 'cancelled', completed_at = $2, \
                 started_at = COALESCE(started_at, $2) \
             WHERE id = $1 AND status <> 'completed' RETURNING id",
            args![run_id, now],
        )
        .await?;
    Ok(row.is_some())
}

/// The runs of `ids` in the order given, without their failures (lists).
pub async fn list_by_ids(db: &Db, ids: &[i64]) -> Result<Vec<Run>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM operation_runs WHERE id IN ({})",
        placeholders.join(", ")
    );
    let rows = db
        .fetch_all::<RunRow>(&sql, ids.iter().map(|id| (*id).into()).collect())
        .await?;
    let mut runs = rows
        .into_iter()
        .map(|row| row.into_run(vec![]))
        .collect::<Result<Vec<Run>, sqlx::Error>>()?;
    runs.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(runs)
}

/// The runs that retry `run_id`, oldest first.
pub async fn retries_of(db: &Db, run_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    let rows = db
        .fetch_all::<(i64,)>(
            "SELECT id FROM operation_runs WHERE retry_of = $1 ORDER BY id",
            args![run_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
