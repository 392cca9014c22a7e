//! Operation runs and the OperationRunService: the one place runs change.
//!
//! A run is created together with its per-tenant rows and queued jobs in one
//! transaction; only forward transitions exist; counts move by atomic
//! increments; each (run, tenant) result is recorded once, so a retried job
//! never counts twice; completion happens exactly once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::alerts::{self, AlertSettings};
use crate::clock::SharedClock;
use crate::error::{Error, Result};
use crate::storage::{self, Db, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Succeeded,
    PartiallySucceeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
        }
    }
    pub fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Queued, RunStatus::Running, RunStatus::Completed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Succeeded => "succeeded",
            Outcome::PartiallySucceeded => "partially_succeeded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Pending,
            Outcome::Succeeded,
            Outcome::PartiallySucceeded,
            Outcome::Failed,
            Outcome::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Who started a run. A platform initiator lives here, never in `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Initiator {
    PlatformUser { id: i64, email: String },
    Cli { os_user: Option<String> },
    Deploy { release: Option<String> },
}

/// Which tenants a run covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    AllTenants,
    Tenant {
        tenant_id: i64,
        tenant_external_id: String,
    },
    /// The failed tenants of an earlier run (retry-failed).
    Tenants {
        tenant_ids: Vec<i64>,
        retry_of: i64,
    },
}

impl Scope {
    /// The part of the run identity that names the scope.
    fn identity_part(&self) -> String {
        match self {
            Scope::AllTenants => "all".into(),
            Scope::Tenant { tenant_id, .. } => format!("tenant:{tenant_id}"),
            Scope::Tenants {
                tenant_ids,
                retry_of,
            } => {
                let ids: Vec<String> = tenant_ids.iter().map(i64::to_string).collect();
                format!("retry:{retry_of}:{}", ids.join(","))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Scope::AllTenants => "all tenants".into(),
            Scope::Tenant {
                tenant_external_id, ..
            } => format!("tenant {tenant_external_id}"),
            Scope::Tenants {
                tenant_ids,
                retry_of,
            } => {
                format!("{} failed tenant(s) of run {retry_of}", tenant_ids.len())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunContext {
    pub initiator: Initiator,
    pub runbook: String,
    pub scope: Scope,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryCounts {
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub items_updated: i64,
    pub items_skipped: i64,
    pub items_failed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    pub tenant_id: Option<i64>,
    pub tenant_external_id: Option<String>,
    pub reason_code: String,
    pub message: String,
}

/// A run as every door shows it (Appendix A).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub id: i64,
    #[serde(rename = "type")]
    pub run_type: String,
    pub status: RunStatus,
    pub outcome: Outcome,
    pub workspace_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub summary_counts: SummaryCounts,
    pub failures: Vec<RunFailure>,
    pub context: RunContext,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Run {
    pub fn is_active(&self) -> bool {
        self.status != RunStatus::Completed
    }
}

/// What a tenant job reports when its tenant is done.
#[derive(Debug, Clone, Default)]
pub struct TenantResult {
    /// Items of the tenant now in the runbook's target state; the skipped
    /// count is this minus what the run itself updated, so retries stay exact.
    pub items_in_target_state: i64,
    pub items_failed: i64,
    pub failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFailure {
    pub reason_code: String,
    pub message: String,
}

impl TenantResult {
    pub fn succeeded(&self) -> bool {
        self.failures.is_empty() && self.items_failed == 0
    }
}

/// A new run to ensure.
pub struct NewRun {
    pub runbook: String,
    pub workspace_id: i64,
    pub context: RunContext,
}

impl NewRun {
    /// Hash of type + workspace + scope: equal requests share one active run.
    pub fn identity(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.runbook.as_bytes());
        h.update(b"|");
        h.update(self.workspace_id.to_string().as_bytes());
        h.update(b"|");
        h.update(self.context.scope.identity_part().as_bytes());
        hex::encode(h.finalize())
    }

    /// A tenant run carries its tenant; every other scope is a workspace run.
    pub fn tenant_id(&self) -> Option<i64> {
        match &self.context.scope {
            Scope::Tenant { tenant_id, .. } => Some(*tenant_id),
            _ => None,
        }
    }
}

/// Whether `ensure` created the run or found the active one.
#[derive(Debug, Clone)]
pub struct Ensured {
    pub run: Run,
    pub created: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub runbook: Option<String>,
    pub status: Option<RunStatus>,
    pub outcome: Option<Outcome>,
    pub workspace_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

impl RunFilter {
    /// A filter from a door's text: an unknown status or outcome is bad
    /// input (HTTP 422, CLI exit 2); blank values mean "any".
    pub fn parse(
        runbook: Option<&str>,
        status: Option<&str>,
        outcome: Option<&str>,
    ) -> Result<RunFilter> {
        fn blank(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let status = blank(status)
            .map(|s| {
                RunStatus::parse(s).ok_or_else(|| {
                    Error::BadInput(format!("unknown status {s:?} (queued, running, completed)"))
                })
            })
            .transpose()?;
        let outcome = blank(outcome)
            .map(|o| {
                Outcome::parse(o).ok_or_else(|| {
                    Error::BadInput(format!(
                        "unknown outcome {o:?} (pending, succeeded, partially_succeeded, failed, cancelled)"
                    ))
                })
            })
            .transpose()?;
        Ok(RunFilter {
            runbook: blank(runbook).map(str::to_owned),
            status,
            outcome,
            ..RunFilter::default()
        })
    }
}

#[derive(Clone)]
pub struct OperationRunService {
    db: Db,
    clock: SharedClock,
    max_attempts: i64,
    alerts: Arc<AlertSettings>,
}

impl OperationRunService {
    pub fn new(db: Db, clock: SharedClock, max_attempts: i64, alerts: Arc<AlertSettings>) -> Self {
        OperationRunService {
            db,
            clock,
            max_attempts,
            alerts,
        }
    }

    /// Ensure (workspace or tenant) run with identity: while a queued or
    /// running run with the same identity exists, returns it; otherwise
    /// creates the run, a row per tenant and a queued job per tenant, in one
    /// transaction. The unique index over active identities decides races.
    pub async fn ensure(&self, new: NewRun) -> Result<Ensured> {
        let identity = new.identity();
        // A lost race against a run that completes at that instant is retried.
        for _ in 0..5 {
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            match storage::runs::insert_if_no_active(&mut tx, &new, &identity, now).await? {
                Some(run_id) => {
                    let total = storage::runs::fan_out(
                        &mut tx,
                        run_id,
                        &new,
                        now.timestamp_millis(),
                        self.max_attempts,
                    )
                    .await?;
                    if total == 0 {
                        storage::runs::mark_running(&mut tx, run_id, now).await?;
                        self.complete_if_done(&mut tx, run_id, now).await?;
                    }
                    tx.commit().await?;
                    let run = self.get(run_id).await?;
                    return Ok(Ensured { run, created: true });
                }
                None => {
                    tx.rollback().await?;
                    if let Some(run_id) =
                        storage::runs::active_by_identity(&self.db, &identity).await?
                    {
                        let run = self.get(run_id).await?;
                        return Ok(Ensured {
                            run,
                            created: false,
                        });
                    }
                }
            }
        }
        Err(Error::Conflict(
            "the run could not be started; try again".into(),
        ))
    }

    pub async fn get(&self, id: i64) -> Result<Run> {
        storage::runs::get(&self.db, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("run {id} does not exist")))
    }

    pub async fn find(&self, id: i64) -> Result<Option<Run>> {
        Ok(storage::runs::get(&self.db, id).await?)
    }

    pub async fn list(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        Ok(storage::runs::list(&self.db, filter).await?)
    }

    pub async fn active_by_identity(&self, new: &NewRun) -> Result<Option<i64>> {
        Ok(storage::runs::active_by_identity(&self.db, &new.identity()).await?)
    }

    /// queued → running; a no-op for a run already running or completed.
    pub async fn mark_running(&self, run_id: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        storage::runs::mark_running(&mut tx, run_id, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a committed chunk of item updates inside the chunk's own
    /// transaction. Returns false (and the caller rolls back) once the run is
    /// completed, so a cancelled run never changes again.
    pub async fn record_chunk(
        tx: &mut Tx,
        run_id: i64,
        tenant_id: i64,
        items_updated: i64,
    ) -> Result<bool> {
        Ok(storage::runs::record_chunk(tx, run_id, tenant_id, items_updated).await?)
    }

    /// Records a tenant's result once per (run, tenant), adds it to the run's
    /// counts, and completes the run when every tenant is processed.
    /// Returns whether this call counted (false for a repeated result).
    pub async fn record_tenant_result(
        &self,
        tx: &mut Tx,
        run_id: i64,
        tenant_id: i64,
        result: &TenantResult,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(
            match storage::runs::finish_tenant(tx, run_id, tenant_id, result, now).await? {
                storage::runs::Counted::No => false,
                storage::runs::Counted::Yes => true,
                storage::runs::Counted::AndCompleted => {
                    self.on_completed(tx, run_id, now).await?;
                    true
                }
            },
        )
    }

    /// maybe complete bulk run: when processed ≥ total the run completes,
    /// exactly once, with the outcome its tenants earned; its initiator's
    /// notification and its alert event are written in the same transaction.
    pub async fn complete_if_done(
        &self,
        tx: &mut Tx,
        run_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !storage::runs::complete_if_done(tx, run_id, now).await? {
            return Ok(false);
        }
        self.on_completed(tx, run_id, now).await?;
        Ok(true)
    }

    async fn on_completed(&self, tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        let run = storage::runs::get_in_tx(tx, run_id).await?;
        metrics::counter!("tenantatlas_runs_completed_total", "runbook" => run.run_type.clone(), "outcome" => run.outcome.as_str())
            .increment(1);
        let entry = storage::directory::AuditEntry {
            detail: serde_json::json!({"outcome": run.outcome, "summary_counts": run.summary_counts}),
            ..storage::directory::AuditEntry::system("run.completed", format!("run:{run_id}"))
        };
        storage::directory::audit(tx, &entry, now).await?;
        alerts::on_run_completed(&self.alerts, tx, &run, now, self.max_attempts).await
    }

    /// Cancels an active run: queued tenant jobs are dropped, tenants not yet
    /// done are marked cancelled, the outcome is `cancelled`.
    pub async fn cancel(&self, run_id: i64) -> Result<Run> {
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let cancelled = storage::runs::cancel(&mut tx, run_id, now).await?;
        if cancelled {
            self.on_completed(&mut tx, run_id, now).await?;
        }
        tx.commit().await?;
        let run = self.get(run_id).await?;
        if !cancelled {
            return Err(Error::Conflict(format!(
                "run {run_id} is already completed ({})",
                run.outcome.as_str()
            )));
        }
        Ok(run)
    }

    pub async fn failed_tenants(&self, run_id: i64) -> Result<Vec<i64>> {
        Ok(storage::runs::tenants_in_state(&self.db, run_id, "failed").await?)
    }
}
