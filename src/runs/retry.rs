//! Retry: a new run over the tenants of a completed run in the chosen states
//! (failed, not_started, cancelled), linked by `context.retry_of`. Runs pick
//! the tenants; the runbook, through [`RunPlanner`](super::RunPlanner), is
//! checked still registered and plans the items.

use super::OperationRunService;
use crate::domain::run::{Ensured, NewRun, Run, Scope};
use crate::domain::run_controls::LimitsText;
use crate::domain::run_tenants::TenantState;
use crate::domain::{Actor, Capability, Reason};
use crate::error::{Error, Result};
use crate::storage::directory;
use crate::storage::runs::tenants as run_tenants;

/// What a retry would pick (see [`OperationRunService::retry_preview`]).
#[derive(Debug, Clone, Default)]
pub struct RetryPreview {
    pub groups: Vec<RetryGroup>,
    pub tenants: i64,
    /// The data-error code every failed tenant shares, or empty.
    pub same_data_error: String,
}

/// Tenants a retry picks that share a state and a reason code.
#[derive(Debug, Clone)]
pub struct RetryGroup {
    pub state: TenantState,
    pub reason_code: String,
    pub tenants: i64,
    /// One of their messages.
    pub sample: String,
}

/// Whether a reason code names a fault of the data (a retry meets it again)
/// rather than of the machinery (`job.*`) or the run (`run.*`).
fn is_data_error(code: &str) -> bool {
    !code.is_empty() && !code.starts_with("job.") && !code.starts_with("run.")
}

/// Tenants a retry's audit entry names by external id.
const AUDIT_NAMES: i64 = 100;

impl OperationRunService {
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
            LimitsText::default(),
        )
        .await
    }

    /// A new run over the tenants of a completed run in the chosen states
    /// (failed, not_started, cancelled), linked by `context.retry_of`,
    /// with the run's limits.
    pub async fn retry(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
        reason: Option<&str>,
    ) -> Result<Ensured> {
        let keep = LimitsText::default();
        self.retry_with(actor, run_id, states, reason, keep).await
    }

    /// [`retry`](Self::retry) with the run's limits changed as the operator
    /// typed them (a field left out keeps the run's, an empty one removes it).
    pub async fn retry_with(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
        reason: Option<&str>,
        limits: LimitsText<'_>,
    ) -> Result<Ensured> {
        self.retry_states(actor, run_id, states, reason, "run.retry", limits)
            .await
    }

    async fn retry_states(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
        reason: Option<&str>,
        action: &str,
        limits: LimitsText<'_>,
    ) -> Result<Ensured> {
        actor.require(Capability::RUNBOOKS_RUN)?;
        if states.is_empty() || states.iter().any(|s| !TenantState::RETRYABLE.contains(s)) {
            return Err(Error::BadInput(
                "choose states to retry among failed, not_started and cancelled".into(),
            ));
        }
        let run = self.get(run_id).await?;
        if run.is_active() {
            return Err(Error::Conflict(format!(
                "run {run_id} is still {}; retry it when it completes",
                run.status.as_str()
            )));
        }
        let tenants = self.tenants_in_states(run_id, states).await?;
        let names: Vec<&str> = states.iter().map(TenantState::as_str).collect();
        if tenants.is_empty() {
            return Err(Error::Conflict(format!(
                "run {run_id} has no {} tenants to retry",
                names.join("/")
            )));
        }
        self.planner.check(&run.run_type)?;
        // v1 runbooks act on the default workspace (seed decision 3).
        let ws = directory::default_workspace(&self.db).await?;
        let default_reason = format!("retry {} tenants of run {run_id}", names.join("/"));
        let reason = Reason::parse(reason, false)
            .map_err(Error::BadInput)?
            .or(Reason::parse(Some(&default_reason), false).ok().flatten());
        let limits = run.limits.changed(
            limits.max_concurrency,
            limits.max_errors,
            limits.min_finished,
        )?;
        // The audit entry names the tenants as operators know them (the
        // first hundred; the count says how many in all).
        let named = directory::external_ids(&self.db, &tenants, AUDIT_NAMES).await?;
        let audit_scope = serde_json::json!({
            "kind": "tenants",
            "retry_of": run_id,
            "states": states,
            "tenants": tenants.len(),
            "tenant_external_ids": named,
        });
        let scope = Scope::Tenants {
            tenant_ids: tenants,
            retry_of: run_id,
            states: states.to_vec(),
        };
        let mut new = NewRun::new(&run.run_type, ws.id, actor.initiator.clone(), scope, reason);
        new.limits = limits;
        new.expected = Some(self.planner.expected(&self.db, &new).await?);
        self.start_as(actor, new, action, audit_scope).await
    }

    /// What a retry of `run_id` over `states` would pick: its tenants
    /// grouped by state and reason code (largest first), their number, and
    /// the one data-error code every failed tenant shares, when they do
    /// (a retry would most likely meet it again).
    pub async fn retry_preview(
        &self,
        actor: &Actor,
        run_id: i64,
        states: &[TenantState],
    ) -> Result<RetryPreview> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        let rows = run_tenants::count_by_state_and_reason(&self.db, run_id, states).await?;
        let groups: Vec<RetryGroup> = rows
            .into_iter()
            .filter_map(|(state, reason_code, tenants, sample)| {
                let state = TenantState::try_from(state).ok()?;
                Some(RetryGroup {
                    state,
                    reason_code,
                    tenants,
                    sample,
                })
            })
            .collect();
        let failed: Vec<&RetryGroup> = groups
            .iter()
            .filter(|g| g.state == TenantState::Failed)
            .collect();
        let same_data_error = match failed.as_slice() {
            [only] if is_data_error(&only.reason_code) => only.reason_code.clone(),
            _ => String::new(),
        };
        Ok(RetryPreview {
            tenants: groups.iter().map(|g| g.tenants).sum(),
            groups,
            same_data_error,
        })
    }

    /// The runs started as retries of `run_id`, oldest first.
    pub async fn retries_of(&self, actor: &Actor, run_id: i64) -> Result<Vec<Run>> {
        actor.require(Capability::OPERATIONS_VIEW)?;
        let mut runs = Vec::new();
        for id in self.retry_ids(run_id).await? {
            runs.push(self.get(id).await?);
        }
        Ok(runs)
    }
}
