//! The runbook service's operator controls over a run: pause, resume, new
//! limits, retry by tenant state, and the run's per-tenant results. Each
//! action checks the capability that starting and cancelling need; the run
//! service writes its audit entry in the transaction of the change.

use crate::domain::{Actor, Capability, Reason};
use crate::error::{Error, Result};
use crate::runbooks::service::RunbookService;
use crate::runs::{
    Ensured, Run, RunLimits, Scope, TenantPage, TenantQuery, TenantRow, TenantState,
};

impl RunbookService {
    /// Pauses a run: no new tenant starts, tenants in flight finish.
    pub async fn pause(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        self.set_paused(actor, run_id, true).await
    }

    /// Resumes a paused run: its waiting tenants become ready at once.
    pub async fn resume(&self, actor: &Actor, run_id: i64) -> Result<Run> {
        self.set_paused(actor, run_id, false).await
    }

    async fn set_paused(&self, actor: &Actor, run_id: i64, paused: bool) -> Result<Run> {
        self.runs.set_paused(actor, run_id, paused).await?;
        self.run(actor, run_id).await
    }

    /// Changes the cap and budget of a running or paused run. A field left
    /// out (None) keeps its value; an empty text removes the limit.
    pub async fn set_limits(
        &self,
        actor: &Actor,
        run_id: i64,
        max_concurrency: Option<&str>,
        max_errors: Option<&str>,
        min_finished: Option<&str>,
    ) -> Result<Run> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        let parsed = RunLimits::parse(max_concurrency, max_errors, min_finished)?;
        let change = |run: &RunLimits| RunLimits {
            max_concurrency: match max_concurrency {
                Some(_) => parsed.max_concurrency,
                None => run.max_concurrency.clone(),
            },
            max_errors: match max_errors {
                Some(_) => parsed.max_errors,
                None => run.max_errors.clone(),
            },
            min_finished: match min_finished {
                Some(_) => parsed.min_finished,
                None => run.min_finished,
            },
        };
        self.runs.set_limits(actor, run_id, change).await?;
        self.run(actor, run_id).await
    }

    /// A new run over just the failed tenants of a completed run.
    pub async fn retry_failed(
        &self,
        actor: &Actor,
        run_id: i64,
        reason: Option<&str>,
    ) -> Result<Ensured> {
        self.retry_states(
            actor,
            run_id,
            &[TenantState::Failed],
            reason,
            "run.retry_failed",
        )
        .await
    }

    /// A new run over the tenants of a completed run in the chosen states
    /// (failed, not_started, cancelled), linked by `context.retry_of`.
    pub async fn retry(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
        reason: Option<&str>,
    ) -> Result<Ensured> {
        self.retry_states(actor, run_id, states, reason, "run.retry")
            .await
    }

    async fn retry_states(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
        reason: Option<&str>,
        action: &str,
    ) -> Result<Ensured> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        if states.is_empty() || states.iter().any(|s| !TenantState::RETRYABLE.contains(s)) {
            return Err(Error::BadInput(
                "choose states to retry among failed, not_started and cancelled".into(),
            ));
        }
        let run = self.runs.get(run_id).await?;
        if run.is_active() {
            return Err(Error::Conflict(format!(
                "run {run_id} is still {}; retry it when it completes",
                run.status.as_str()
            )));
        }
        let tenants = self.runs.tenants_in_states(run_id, states).await?;
        let names: Vec<&str> = states.iter().map(TenantState::as_str).collect();
        if tenants.is_empty() {
            return Err(Error::Conflict(format!(
                "run {run_id} has no {} tenants to retry",
                names.join("/")
            )));
        }
        let runbook = self.runbook(&run.run_type)?;
        let ws = self.workspace().await?;
        let default_reason = format!("retry {} tenants of run {run_id}", names.join("/"));
        let reason = Reason::parse(reason, false)
            .map_err(Error::BadInput)?
            .or(Reason::parse(Some(&default_reason), false).ok().flatten());
        let scope = Scope::Tenants {
            tenant_ids: tenants,
            retry_of: run_id,
            states: states.to_vec(),
        };
        let new = self
            .new_run_with_preflight(
                runbook.as_ref(),
                &ws,
                actor,
                scope,
                reason,
                run.limits.clone(),
            )
            .await?;
        let ensured = self
            .runs
            .ensure(new, Self::start_entry(actor, action))
            .await?;
        Self::count_started(&ensured);
        Ok(ensured)
    }

    /// One page of a run's tenants with its box score.
    pub async fn run_tenants(
        &self,
        actor: &Actor,
        run_id: i64,
        query: &TenantQuery,
    ) -> Result<TenantPage> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        self.runs.tenant_page(run_id, query).await
    }

    /// Every tenant of a run matching the query (filter, search, order), for
    /// an export.
    pub async fn run_tenants_all(
        &self,
        actor: &Actor,
        run_id: i64,
        query: &TenantQuery,
    ) -> Result<Vec<TenantRow>> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        self.runs.tenant_rows(run_id, query).await
    }

    /// The runs started as retries of `run_id`, oldest first.
    pub async fn retries_of(&self, actor: &Actor, run_id: i64) -> Result<Vec<Run>> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        let mut runs = Vec::new();
        for id in self.runs.retries_of(run_id).await? {
            runs.push(self.runs.get(id).await?);
        }
        Ok(runs)
    }
}
