//! The run service's operator controls: the gate every tenant passes before
//! it starts (concurrency cap, pause, spent error budget), pause, resume,
//! new limits, the error budget's stop, and cancel. Each control takes the
//! run's waiting jobs, then its tenant rows, then its row: the one lock
//! order (docs/architecture.md).
//!
//! The gate is enforced in the database: a capped, paused or stopped run's
//! row is locked while one tenant's start is decided, so starts of its
//! tenants pass one at a time across every worker process, and the count of
//! running tenant rows is exact (a tenant whose worker died stays running
//! and its reclaimed job continues it).

use chrono::{DateTime, Utc};

use super::OperationRunService;
use crate::domain::run::Run;
use crate::domain::run_controls::{
    GateDecision, GateInputs, REASON_ERROR_BUDGET_EXHAUSTED, RunLimits,
};
use crate::domain::{Actor, Capability};
use crate::error::{Error, Result};
use crate::storage::runs::jobs as run_jobs;
use crate::storage::runs::tenants::RunAfterCount;
use crate::storage::{self, Tx, runs::controls as rc};

/// What the gate decided for a tenant about to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Started (now `running`), or continues a start of before.
    Start,
    /// Not now: the cap is reached (try again soon) or the run is paused
    /// (try again after resume).
    Wait(GateDecision),
    /// The tenant is done (its run stopped, or it has a result already):
    /// the job ends without work.
    Done,
}

impl OperationRunService {
    /// Starts those of a run's tenants that need no gate (see
    /// [`OperationRunService::admit_tenant`]) in one statement; returns the
    /// tenants started. The others go through `admit_tenant`, whose rows
    /// this has locked already, and whose run's row it locks now: a batch's
    /// claim takes each run's tenant rows and then its row, run by run in
    /// id order (call this in that order), as the one lock order asks.
    pub async fn admit_tenants_ungated(
        &self,
        tx: &mut Tx,
        run_id: i64,
        tenant_ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let (started, status) = rc::start_ungated_many(tx, run_id, tenant_ids, now).await?;
        if started.len() < tenant_ids.len() {
            rc::lock_for_gate(tx, run_id).await?;
        } else if status.as_deref() == Some("queued") {
            storage::runs::mark_running(tx, run_id, now).await?;
        }
        Ok(started)
    }

    /// Decides, in the claim's transaction, whether the tenant may start.
    /// Plain runs pay one statement on the tenant's own row; only a capped,
    /// paused or stopped run locks its row (after the tenant's).
    pub async fn admit_tenant(
        &self,
        tx: &mut Tx,
        run_id: i64,
        tenant_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Admission> {
        if rc::start_ungated(tx, run_id, tenant_id, now)
            .await?
            .is_some()
        {
            return Ok(Admission::Start);
        }
        let Some(state) = rc::lock_tenant_state(tx, run_id, tenant_id).await? else {
            return Ok(Admission::Done);
        };
        let Some(run) = rc::lock_for_gate(tx, run_id).await? else {
            return Ok(Admission::Done);
        };
        match state.as_str() {
            "queued" => {}
            "running" => {
                rc::start_ungated(tx, run_id, tenant_id, now).await?;
                return Ok(Admission::Start);
            }
            _ => return Ok(Admission::Done),
        }
        let running = rc::running(tx, run_id).await?;
        let view = GateInputs {
            limits: RunLimits {
                max_concurrency: run.max_concurrency,
                max_errors: run.max_errors,
                min_finished: run.min_finished,
            },
            paused: run.paused,
            stopped: run.reason_code.is_some(),
            total: run.total,
            running: running + 1,
        };
        // The time after the lock: a start waits for the one before it.
        let now = self.clock.now().max(now);
        match view.decide() {
            GateDecision::Open => {
                rc::start_gated(tx, run_id, tenant_id, now).await?;
                Ok(Admission::Start)
            }
            GateDecision::Closed => {
                let (_, completed) = rc::end_not_started(tx, run_id, Some(tenant_id), now).await?;
                if completed {
                    self.on_completed(tx, run_id, now).await?;
                }
                Ok(Admission::Done)
            }
            wait => Ok(Admission::Wait(wait)),
        }
    }

    /// After a tenant's result counted (the run row locked by that count):
    /// a capped run's next waiting tenant is woken for the freed slot; when
    /// the run's error budget is spent, the run stops starting tenants.
    pub(super) async fn after_count(
        tx: &mut Tx,
        run_id: i64,
        after: &RunAfterCount,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if after.max_concurrency.is_some() && after.reason_code.is_none() {
            run_jobs::wake_next(tx, run_id, now.timestamp_millis()).await?;
        }
        if after.max_errors.is_none() || after.reason_code.is_some() {
            return Ok(());
        }
        let limits = RunLimits {
            max_errors: after.max_errors.clone(),
            min_finished: after.min_finished,
            max_concurrency: None,
        };
        if limits.budget_exhausted(after.failed, after.processed, after.total) {
            rc::set_reason(tx, run_id, REASON_ERROR_BUDGET_EXHAUSTED).await?;
        }
        Ok(())
    }

    /// When the run stopped (its error budget spent), its queued tenants end
    /// `not_started` and their jobs are dropped; the run completes once its
    /// in-flight tenants finish. A transaction of its own, locking jobs,
    /// then tenants, then the run: the one lock order.
    pub async fn stop_if_exhausted(&self, run_id: i64) -> Result<()> {
        let run = self.get(run_id).await?;
        if run.reason_code.is_none() || !run.is_active() {
            return Ok(());
        }
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        run_jobs::cancel_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        let (_, completed) = rc::end_not_started(&mut tx, run_id, None, now).await?;
        if completed {
            self.on_completed(&mut tx, run_id, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pauses a run: no new tenant starts, tenants in flight finish.
    pub async fn pause(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        self.set_paused(actor, run_id, true).await
    }

    /// Resumes a paused run: its waiting tenants become ready at once.
    pub async fn resume(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        self.set_paused(actor, run_id, false).await
    }

    /// Pauses (true) or resumes (false) an active run for `actor`, with its
    /// audit entry in the same transaction. Resuming makes its waiting
    /// tenant jobs ready at once (their rows locked before the run's).
    async fn set_paused(&self, actor: &Actor, run_id: i64, paused: bool) -> Result<Run> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        if !paused {
            run_jobs::wake_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        }
        if !rc::set_paused(&mut tx, run_id, paused, now.timestamp_millis()).await? {
            tx.rollback().await?;
            let run = self.get(run_id).await?;
            return Err(Error::Conflict(if !run.is_active() {
                format!(
                    "run {run_id} is already completed ({})",
                    run.outcome.as_str()
                )
            } else if paused {
                format!("run {run_id} is already paused")
            } else {
                format!("run {run_id} is not paused")
            }));
        }
        let action = if paused { "run.pause" } else { "run.resume" };
        let entry = actor.audit(action, Some(format!("run:{run_id}")), serde_json::json!({}));
        storage::directory::audit(&mut tx, &entry, now).await?;
        tx.commit().await?;
        self.run(actor, run_id).await
    }

    /// Changes the cap and budget of a running or paused run. A field left
    /// out (None) keeps its value as it is under the run's lock; an empty
    /// text removes the limit. The audit entry (before and after) is written
    /// in the same transaction. Waiting tenants are woken (their jobs locked
    /// before the run's row) so a raised cap takes effect at once.
    pub async fn set_limits(
        &self,
        actor: &Actor,
        run_id: i64,
        max_concurrency: Option<&str>,
        max_errors: Option<&str>,
        min_finished: Option<&str>,
    ) -> Result<Run> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        // Checked before anything is locked: bad input writes nothing.
        RunLimits::default().changed(max_concurrency, max_errors, min_finished)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        run_jobs::wake_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        let Some(run) = rc::lock_for_gate(&mut tx, run_id).await? else {
            tx.rollback().await?;
            self.get(run_id).await?;
            return Err(Error::Conflict(format!(
                "run {run_id} is already completed; its limits no longer apply"
            )));
        };
        let before = RunLimits {
            max_concurrency: run.max_concurrency,
            max_errors: run.max_errors,
            min_finished: run.min_finished,
        };
        let after = before.changed(max_concurrency, max_errors, min_finished)?;
        rc::set_limits(&mut tx, run_id, &after).await?;
        let entry = actor.audit(
            "run.limits",
            Some(format!("run:{run_id}")),
            serde_json::json!({"before": before, "after": after}),
        );
        storage::directory::audit(&mut tx, &entry, now).await?;
        tx.commit().await?;
        self.run(actor, run_id).await
    }

    /// Cancels an active run for `actor`: queued tenant jobs are dropped,
    /// tenants not yet done are marked cancelled, the outcome is
    /// `cancelled`; the audit entry is written in the same transaction.
    /// Jobs, then tenant rows, then the run's row: the one lock order.
    pub async fn cancel(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        run_jobs::cancel_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
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
}
