//! Operation runs and the OperationRunService: the one place runs change.
//!
//! A run is created together with its per-tenant rows and queued jobs in one
//! transaction; only forward transitions exist; counts move by atomic
//! increments; each (run, tenant) result is recorded once, so a retried job
//! never counts twice; completion happens exactly once and is handed to the
//! subscribers the assembly registered ([`RunCompletionSubscriber`]).

mod controls;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::domain::{Actor, AuditEntry, Capability, JobKind};
use crate::error::{Error, Result};
use crate::storage::{self, Db, Tx};

pub use crate::domain::run::{
    Ensured, Initiator, ItemFailure, NewRun, Outcome, Run, RunContext, RunFailure, RunFilter,
    RunStatus, Scope, SummaryCounts, TenantResult,
};
pub use crate::domain::run_controls::{Estimate, GateDecision, RunLimits};
pub use crate::domain::run_tenants::{BoxScore, TenantPage, TenantQuery, TenantRow, TenantState};
pub use controls::Admission;

/// The per-tenant job of a run; its handler lives with the runbooks.
pub const TENANT_JOB: JobKind = JobKind("runbook.tenant");

/// A tenant job's arguments: its run and tenant. The fan-out writes them in
/// SQL (`storage::runs::jobs::enqueue_per_run_tenant`) in this shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TenantJobArgs {
    pub run_id: i64,
    pub tenant_id: i64,
}

impl crate::queue::JobArgs for TenantJobArgs {
    const KIND: JobKind = TENANT_JOB;
}

/// Told of every run that completes, inside the transaction that completes
/// it, so what it writes commits (or fails) with the completion, exactly once.
#[async_trait]
pub trait RunCompletionSubscriber: Send + Sync {
    async fn run_completed(&self, tx: &mut Tx, run: &Run, now: DateTime<Utc>) -> Result<()>;
}

#[derive(Clone)]
pub struct OperationRunService {
    db: Db,
    clock: SharedClock,
    max_attempts: i64,
    subscribers: Arc<Vec<Arc<dyn RunCompletionSubscriber>>>,
}

impl OperationRunService {
    pub fn new(
        db: Db,
        clock: SharedClock,
        max_attempts: i64,
        subscribers: Vec<Arc<dyn RunCompletionSubscriber>>,
    ) -> Self {
        OperationRunService {
            db,
            clock,
            max_attempts,
            subscribers: Arc::new(subscribers),
        }
    }

    /// Ensure (workspace or tenant) run with identity: while a queued or
    /// running run with the same identity exists, returns it; otherwise
    /// creates the run, a row per tenant and a queued job per tenant, in one
    /// transaction. The unique index over active identities decides races.
    /// `audit` is the start's audit entry for the run as ensured, written in
    /// the transaction that creates the run (or alone for an active run
    /// answered instead, which changes nothing).
    pub async fn ensure(
        &self,
        new: NewRun,
        audit: impl Fn(&Ensured) -> AuditEntry + Send + Sync,
    ) -> Result<Ensured> {
        let identity = new.identity();
        // A lost race against a run that completes at that instant is retried.
        for _ in 0..5 {
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            match storage::runs::insert_if_no_active(&mut tx, &new, &identity, now).await? {
                Some(run_id) => {
                    let total =
                        storage::runs::tenants::insert_run_tenants(&mut tx, run_id, &new).await?;
                    storage::runs::jobs::enqueue_per_run_tenant(
                        &mut tx,
                        TENANT_JOB,
                        run_id,
                        self.max_attempts,
                        now.timestamp_millis(),
                    )
                    .await?;
                    if total == 0 {
                        storage::runs::mark_running(&mut tx, run_id, now).await?;
                        self.complete_if_done(&mut tx, run_id, now).await?;
                    }
                    let created = Ensured {
                        run: storage::runs::get_in_tx(&mut tx, run_id).await?,
                        created: true,
                    };
                    storage::directory::audit(&mut tx, &audit(&created), now).await?;
                    tx.commit().await?;
                    storage::runs::tenants::refresh_statistics(&self.db, total).await;
                    let run = self.get(run_id).await?;
                    return Ok(Ensured { run, created: true });
                }
                None => {
                    tx.rollback().await?;
                    if let Some(run_id) =
                        storage::runs::active_by_identity(&self.db, &identity).await?
                    {
                        let run = self.get(run_id).await?;
                        let active = Ensured {
                            run,
                            created: false,
                        };
                        storage::directory::audit_now(&self.db, &audit(&active), now).await?;
                        return Ok(active);
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

    /// queued → running, in the caller's transaction (a tenant job's claim);
    /// a no-op for a run already running or completed.
    pub async fn mark_running(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        Ok(storage::runs::mark_running(tx, run_id, now).await?)
    }

    /// Whether the run is completed (cancelled, say), read in the caller's
    /// transaction.
    pub async fn is_completed(tx: &mut Tx, run_id: i64) -> Result<bool> {
        Ok(storage::runs::is_completed(tx, run_id).await?)
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
        Ok(storage::runs::tenants::record_chunk(tx, run_id, tenant_id, items_updated).await?)
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
            match storage::runs::tenants::finish_tenant(tx, run_id, tenant_id, result, now).await? {
                storage::runs::tenants::Counted::No => false,
                storage::runs::tenants::Counted::Yes(after) => {
                    if let Some(after) = after {
                        Self::after_count(tx, run_id, &after, now).await?;
                    }
                    true
                }
                storage::runs::tenants::Counted::AndCompleted => {
                    self.on_completed(tx, run_id, now).await?;
                    true
                }
            },
        )
    }

    /// Locks the listed tenant rows of a run in tenant order, before a
    /// transaction records several of their results in more than one
    /// statement (the one lock order: a run's tenant rows, then its row).
    pub async fn lock_tenants_in_order(tx: &mut Tx, run_id: i64, tenant_ids: &[i64]) -> Result<()> {
        Ok(storage::runs::tenants::lock_in_order(tx, run_id, tenant_ids).await?)
    }

    /// [`OperationRunService::record_tenant_result`] for several tenants of
    /// one run that succeeded with nothing failed, `(tenant_id,
    /// items_in_target_state)` each, set-based.
    pub async fn record_tenants_succeeded(
        &self,
        tx: &mut Tx,
        run_id: i64,
        results: &[(i64, i64)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        match storage::runs::tenants::finish_tenants_succeeded(tx, run_id, results, now).await? {
            storage::runs::tenants::Counted::AndCompleted => {
                self.on_completed(tx, run_id, now).await?
            }
            storage::runs::tenants::Counted::Yes(Some(after)) => {
                Self::after_count(tx, run_id, &after, now).await?
            }
            _ => {}
        }
        Ok(())
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
        let entry = AuditEntry {
            detail: serde_json::json!({"outcome": run.outcome, "summary_counts": run.summary_counts}),
            ..AuditEntry::system("run.completed", format!("run:{run_id}"))
        };
        storage::directory::audit(tx, &entry, now).await?;
        for subscriber in self.subscribers.iter() {
            subscriber.run_completed(tx, &run, now).await?;
        }
        Ok(())
    }

    /// Cancels an active run for `actor`: queued tenant jobs are dropped,
    /// tenants not yet done are marked cancelled, the outcome is
    /// `cancelled`; the audit entry is written in the same transaction.
    /// Jobs, then tenant rows, then the run's row: the one lock order.
    pub async fn cancel(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        storage::runs::jobs::cancel_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        if !storage::runs::cancel(&mut tx, run_id, now).await? {
            tx.rollback().await?;
            let run = self.get(run_id).await?;
            return Err(Error::Conflict(format!(
                "run {run_id} is already completed ({})",
                run.outcome.as_str()
            )));
        }
        self.on_completed(&mut tx, run_id, now).await?;
        let entry = actor.audit(
            "run.cancel",
            Some(format!("run:{run_id}")),
            serde_json::json!({}),
        );
        storage::directory::audit(&mut tx, &entry, now).await?;
        tx.commit().await?;
        self.get(run_id).await
    }

    pub async fn failed_tenants(&self, run_id: i64) -> Result<Vec<i64>> {
        self.tenants_in_states(run_id, &[TenantState::Failed]).await
    }

    pub async fn tenants_in_states(&self, run_id: i64, states: &[TenantState]) -> Result<Vec<i64>> {
        Ok(storage::runs::tenants::tenants_in_states(&self.db, run_id, states).await?)
    }
}
