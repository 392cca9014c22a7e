//! Operation runs and the OperationRunService: the one owner of the run
//! aggregate, the one place runs change. Every door reaches a run's
//! controls here; the runbooks hand it a plan to start.
//!
//! - `lifecycle`: a run is created together with its per-tenant rows and
//!   queued jobs in one transaction; each (run, tenant) result is recorded
//!   once, so a retried job never counts twice; completion happens exactly
//!   once and is handed to the subscribers the assembly registered
//!   ([`RunCompletionSubscriber`]).
//! - `controls`: the gate every tenant passes before it starts, pause,
//!   resume, limits, the error budget's stop, and cancel.
//! - `tenants`: a run's tenants as pages, rows and box score.
//! - `retry`: a new run over a completed run's tenants in chosen states.
//!
//! Each change checks the actor's capability and writes its audit entry in
//! the transaction of the change.

mod controls;
mod lifecycle;
mod retry;
mod tenants;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::domain::{Actor, Capability, JobKind};
use crate::error::{Error, Result};
use crate::storage::{self, Db, Tx};

pub use crate::domain::run::{
    Ensured, Initiator, ItemFailure, NewRun, Outcome, Run, RunContext, RunFailure, RunFilter,
    RunStatus, Scope, SummaryCounts, TenantResult,
};
pub use crate::domain::run_controls::{Estimate, GateDecision, RunLimits};
pub use crate::domain::run_tenants::{BoxScore, TenantPage, TenantQuery, TenantRow, TenantState};
pub use controls::Admission;
pub use retry::{RetryGroup, RetryPreview};

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

/// What a run needs of the runbook it runs when runs start it alone (a
/// retry): runs know no runbook, so the assembly hands them the registry
/// behind this.
#[async_trait]
pub trait RunPlanner: Send + Sync {
    /// Ok while `runbook` is registered; NotFound (naming the known ones)
    /// for a runbook no longer registered.
    fn check(&self, runbook: &str) -> Result<()>;
    /// The runbook's plan of `run`: items pending per tenant of its
    /// workspace (or of its one tenant), as `(tenant_id, items)`.
    async fn expected(&self, db: &Db, run: &NewRun) -> Result<Vec<(i64, i64)>>;
}

#[derive(Clone)]
pub struct OperationRunService {
    db: Db,
    clock: SharedClock,
    max_attempts: i64,
    subscribers: Arc<Vec<Arc<dyn RunCompletionSubscriber>>>,
    planner: Arc<dyn RunPlanner>,
}

impl OperationRunService {
    pub fn new(
        db: Db,
        clock: SharedClock,
        max_attempts: i64,
        subscribers: Vec<Arc<dyn RunCompletionSubscriber>>,
        planner: Arc<dyn RunPlanner>,
    ) -> Self {
        OperationRunService {
            db,
            clock,
            max_attempts,
            subscribers: Arc::new(subscribers),
            planner,
        }
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

    /// One run with its estimate (while it goes) and its retries.
    pub async fn run(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        let (mut run, retries) = tokio::try_join!(self.get(run_id), self.retry_ids(run_id))?;
        run.estimate = run.estimate(self.clock.now());
        run.retries = retries;
        Ok(run)
    }

    pub async fn runs(&self, actor: &Actor, filter: &RunFilter) -> Result<Vec<Run>> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        self.list(filter).await
    }

    /// The ids of the runs started as retries of `run_id`, oldest first.
    async fn retry_ids(&self, run_id: i64) -> Result<Vec<i64>> {
        Ok(storage::runs::retries_of(&self.db, run_id).await?)
    }
}
