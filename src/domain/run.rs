//! What a run is: its status, outcome, scope, initiator, counts and failures,
//! as every floor above speaks of it. No I/O here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::run_controls::{Estimate, RunLimits, estimate};
pub use crate::domain::run_progress::{Progress, Stage, SummaryCounts};
use crate::domain::run_tenants::TenantState;
use crate::domain::{Reason, TextKind};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    /// Queued or running, and paused by an operator (stored as a flag).
    Paused,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
            RunStatus::Paused => "paused",
            RunStatus::Completed => "completed",
        }
    }
    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Paused,
            RunStatus::Completed,
        ]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Initiator {
    PlatformUser {
        id: i64,
        email: String,
    },
    Cli {
        os_user: Option<String>,
        /// The machine it ran on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    Deploy {
        release: Option<String>,
    },
}

/// Which tenants a run covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    AllTenants,
    Tenant {
        tenant_id: i64,
        tenant_external_id: String,
    },
    /// The tenants of an earlier run in the chosen states (a retry).
    Tenants {
        tenant_ids: Vec<i64>,
        retry_of: i64,
        #[serde(default = "failed_only")]
        states: Vec<TenantState>,
    },
}

fn failed_only() -> Vec<TenantState> {
    vec![TenantState::Failed]
}

impl Scope {
    /// The tenant of a one-tenant scope; None for a workspace's.
    pub fn tenant_id(&self) -> Option<i64> {
        match self {
            Scope::Tenant { tenant_id, .. } => Some(*tenant_id),
            _ => None,
        }
    }

    /// The run a retry's scope retries; None for any other scope.
    pub fn retry_of(&self) -> Option<i64> {
        match self {
            Scope::Tenants { retry_of, .. } => Some(*retry_of),
            _ => None,
        }
    }

    /// The part of the run identity that names the scope.
    fn identity_part(&self) -> String {
        match self {
            Scope::AllTenants => "all".into(),
            Scope::Tenant { tenant_id, .. } => format!("tenant:{tenant_id}"),
            Scope::Tenants {
                tenant_ids,
                retry_of,
                ..
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
                states,
            } => {
                let states: Vec<&str> = states.iter().map(TenantState::as_str).collect();
                format!(
                    "{} {} tenant(s) of run {retry_of}",
                    tenant_ids.len(),
                    states.join("/")
                )
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunContext {
    pub initiator: Initiator,
    pub runbook: String,
    pub scope: Scope,
    pub reason: Option<String>,
    /// The run this one retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunFailure {
    pub tenant_id: Option<i64>,
    pub tenant_external_id: Option<String>,
    pub reason_code: String,
    pub message: String,
}

/// A run as every door shows it (Appendix A).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Run {
    pub id: i64,
    #[serde(rename = "type")]
    pub run_type: String,
    pub status: RunStatus,
    pub outcome: Outcome,
    pub workspace_id: Option<i64>,
    pub tenant_id: Option<i64>,
    /// The tenants by what became of them, as a person is told (a stopped
    /// or cancelled run never reads 100%).
    pub progress: Progress,
    /// The counters the completion rule reads (`processed >= total`).
    pub summary_counts: SummaryCounts,
    pub failures: Vec<RunFailure>,
    pub context: RunContext,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The concurrency cap and error budget the operator set.
    pub limits: RunLimits,
    /// Why the run ended as it did, when not by its tenants' results alone
    /// (`run.error_budget_exhausted`).
    pub reason_code: Option<String>,
    /// Items the preflight at start counted (None for runs from before).
    pub items_expected: Option<i64>,
    /// Tenants that ended without starting (the error budget was spent).
    pub not_started: i64,
    /// Milliseconds the run spent paused after it started (ended pauses).
    #[serde(skip)]
    pub paused_ms: i64,
    /// When the current pause began (epoch milliseconds).
    #[serde(skip)]
    pub paused_since_ms: Option<i64>,
    /// Rate so far and time remaining while the run goes (filled by the
    /// service that reads the run for a door).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// Runs started as retries of this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<i64>,
}

impl Outcome {
    /// The stage of a run with this outcome, as its progress reads it.
    pub fn stage(self) -> Stage {
        match self {
            Outcome::Pending => Stage::Going,
            Outcome::Cancelled => Stage::Cancelled,
            _ => Stage::Ended,
        }
    }
}

impl Run {
    /// Milliseconds the run has been working: from its start to its end
    /// (or `now`), less the time it was paused after it started.
    pub fn running_ms(&self, now: DateTime<Utc>) -> Option<i64> {
        let start = self.started_at?;
        let end = self.completed_at.unwrap_or(now);
        let current = match (self.completed_at, self.paused_since_ms) {
            (None, Some(since)) => {
                (now.timestamp_millis() - since.max(start.timestamp_millis())).max(0)
            }
            _ => 0,
        };
        Some(((end - start).num_milliseconds() - self.paused_ms - current).max(0))
    }

    pub fn is_active(&self) -> bool {
        self.status != RunStatus::Completed
    }

    pub fn is_paused(&self) -> bool {
        self.status == RunStatus::Paused
    }

    /// Rate so far and time remaining while the run goes, over running
    /// time only (paused time left out); none while paused.
    pub fn estimate(&self, now: DateTime<Utc>) -> Option<Estimate> {
        if !self.is_active() || self.is_paused() {
            return None;
        }
        estimate(
            self.items_expected,
            self.summary_counts.items_updated + self.summary_counts.items_skipped,
            self.started_at,
            now - chrono::Duration::milliseconds(self.paused_ms.max(0)),
        )
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
    pub limits: RunLimits,
    /// The preflight at start: items pending per tenant id.
    pub expected: Option<Vec<(i64, i64)>>,
}

impl NewRun {
    /// A run of `runbook` over `scope` in the workspace, started by
    /// `initiator`; a retry's link is read off its scope. Without limits or
    /// a preflight until the caller sets them.
    pub fn new(
        runbook: &str,
        workspace_id: i64,
        initiator: Initiator,
        scope: Scope,
        reason: Option<Reason>,
    ) -> NewRun {
        NewRun {
            runbook: runbook.to_owned(),
            workspace_id,
            context: RunContext {
                initiator,
                runbook: runbook.to_owned(),
                retry_of: scope.retry_of(),
                scope,
                reason: reason.map(|r| r.as_str().to_owned()),
            },
            limits: RunLimits::default(),
            expected: None,
        }
    }

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
        self.context.scope.tenant_id()
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
        let checked = |field, v| TextKind::FILTER.optional(field, v).map_err(Error::BadInput);
        let runbook = checked("runbook", runbook)?;
        let status = checked("status", status)?
            .map(|s| {
                RunStatus::parse(s).ok_or_else(|| {
                    Error::BadInput(format!(
                        "unknown status {s:?} (queued, running, paused, completed)"
                    ))
                })
            })
            .transpose()?;
        let outcome = checked("outcome", outcome)?
            .map(|o| {
                Outcome::parse(o).ok_or_else(|| {
                    Error::BadInput(format!(
                        "unknown outcome {o:?} (pending, succeeded, partially_succeeded, failed, cancelled)"
                    ))
                })
            })
            .transpose()?;
        Ok(RunFilter {
            runbook: runbook.map(str::to_owned),
            status,
            outcome,
            ..RunFilter::default()
        })
    }
}
