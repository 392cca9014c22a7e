//! The run service's operator controls: the gate every tenant passes before
//! it starts (concurrency cap, pause, spent error budget), pause, resume and
//! new limits, the error budget's stop, and the reads of per-tenant results.
//!
//! The gate is enforced in the database: a capped, paused or stopped run's
//! row is locked while one tenant's start is decided, so starts of its
//! tenants pass one at a time across every worker process, and the count of
//! running tenant rows is exact (a tenant whose worker died stays running
//! and its reclaimed job continues it).

use chrono::{DateTime, Utc};

use super::OperationRunService;
use crate::domain::run_controls::{
    GateDecision, GateInputs, REASON_ERROR_BUDGET_EXHAUSTED, RunLimits,
};
use crate::domain::run_tenants::{BoxScore, TenantPage, TenantQuery, TenantRow, TenantState};
use crate::domain::{Actor, Capability};
use crate::error::{Error, Result};
use crate::storage::runs::controls::TenantsIn;
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
            storage::runs::jobs::wake_next(tx, run_id, now.timestamp_millis()).await?;
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
        storage::runs::jobs::cancel_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        let (_, completed) = rc::end_not_started(&mut tx, run_id, None, now).await?;
        if completed {
            self.on_completed(&mut tx, run_id, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Pauses (true) or resumes (false) an active run for `actor`, with its
    /// audit entry in the same transaction. Resuming makes its waiting
    /// tenant jobs ready at once (their rows locked before the run's).
    pub async fn set_paused(&self, actor: &Actor, run_id: i64, paused: bool) -> Result<()> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        if !paused {
            storage::runs::jobs::wake_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
        }
        if !rc::set_paused(&mut tx, run_id, paused).await? {
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
        Ok(())
    }

    /// New cap and budget for an active run, `change` applied to its limits
    /// as they are under the run's lock, with the audit entry in the same
    /// transaction. Waiting tenants are woken (their jobs locked before the
    /// run's row) so a raised cap takes effect at once.
    pub async fn set_limits(
        &self,
        actor: &Actor,
        run_id: i64,
        change: impl FnOnce(&RunLimits) -> RunLimits + Send,
    ) -> Result<()> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        storage::runs::jobs::wake_waiting(&mut tx, run_id, now.timestamp_millis()).await?;
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
        let after = change(&before);
        rc::set_limits(&mut tx, run_id, &after).await?;
        let entry = actor.audit(
            "run.limits",
            Some(format!("run:{run_id}")),
            serde_json::json!({"before": before, "after": after}),
        );
        storage::directory::audit(&mut tx, &entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of the run's tenants and its box score, waiting on one read
    /// rather than the workspace's lookup and then the page.
    pub async fn tenant_page(&self, run_id: i64, query: &TenantQuery) -> Result<TenantPage> {
        self.in_runs_workspace(run_id, |within| self.tenant_page_in(run_id, within, query))
            .await
    }

    /// `read` in the run's own workspace, beside the lookup of that
    /// workspace; again over all tenants for a run without one. NotFound
    /// without such a run.
    async fn in_runs_workspace<T, F, Fut>(&self, run_id: i64, read: F) -> Result<T>
    where
        F: Fn(TenantsIn) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (found, workspace_id) =
            tokio::try_join!(read(TenantsIn::RunsOwn), self.workspace_of(run_id))?;
        match workspace_id {
            Some(_) => Ok(found),
            None => read(TenantsIn::Any).await,
        }
    }

    /// [`Self::tenant_page`] within `within`. Without a search, how many
    /// match is read off the box score rather than counted again.
    async fn tenant_page_in(
        &self,
        run_id: i64,
        within: TenantsIn,
        query: &TenantQuery,
    ) -> Result<TenantPage> {
        let matching = async {
            match &query.search {
                Some(_) => rc::count_matching(&self.db, run_id, within, query)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (rows, counts, counted) = tokio::try_join!(
            rc::tenant_page(&self.db, run_id, within, query, false),
            rc::box_score(&self.db, run_id),
            matching,
        )?;
        let box_score = BoxScore::from_counts(&counts);
        let matching = match (counted, query.state) {
            (Some(n), _) => n,
            (None, Some(state)) => box_score.get(state),
            (None, None) => box_score.total,
        };
        Ok(TenantPage {
            run_id,
            rows: rows.into_iter().map(into_row).collect(),
            matching,
            page: query.page,
            per_page: query.per_page,
            box_score,
        })
    }

    /// Every tenant matching the query, in its order (exports).
    pub async fn tenant_rows(&self, run_id: i64, query: &TenantQuery) -> Result<Vec<TenantRow>> {
        let rows = self
            .in_runs_workspace(run_id, |within| async move {
                Ok(rc::tenant_page(&self.db, run_id, within, query, true).await?)
            })
            .await?;
        Ok(rows.into_iter().map(into_row).collect())
    }

    /// The run's workspace; NotFound without such a run.
    async fn workspace_of(&self, run_id: i64) -> Result<Option<i64>> {
        rc::run_workspace(&self.db, run_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("run {run_id} does not exist")))
    }

    pub async fn box_score(&self, run_id: i64) -> Result<BoxScore> {
        Ok(BoxScore::from_counts(
            &rc::box_score(&self.db, run_id).await?,
        ))
    }

    /// The runs started as retries of `run_id`, oldest first.
    pub async fn retries_of(&self, run_id: i64) -> Result<Vec<i64>> {
        Ok(storage::runs::retries_of(&self.db, run_id).await?)
    }
}

fn into_row(r: rc::TenantResultRow) -> TenantRow {
    let duration_ms = match (r.started_at, r.finished_at) {
        (Some(s), Some(f)) => Some((f - s).num_milliseconds().max(0)),
        _ => None,
    };
    TenantRow {
        tenant_id: r.tenant_id,
        external_id: r.external_id,
        state: TenantState::parse(&r.state).unwrap_or(TenantState::Queued),
        items_expected: r.items_expected,
        items_updated: r.items_updated,
        items_skipped: r.items_skipped,
        items_failed: r.items_failed,
        attempts: r.attempts,
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms,
        reason_code: r.reason_code,
        message: r.message,
    }
}
