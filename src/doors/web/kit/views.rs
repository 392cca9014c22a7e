//! View helpers every feature shares: times, the pager, and a run as the
//! console shows it. Formatting lives here; no decisions do.

use chrono::{DateTime, Utc};

use crate::runs::{Outcome, Run, RunStatus, Scope};

pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn opt_time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_else(|| "—".into())
}

pub fn opt_date(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// `base_query` holds the filters; `has_more` whether another page exists.
    pub fn new(path: &str, base_query: &[(&str, String)], page: i64, has_more: bool) -> Pager {
        let url = |p: i64| {
            let mut q: Vec<(&str, String)> = base_query
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect();
            if p > 1 {
                q.push(("page", p.to_string()));
            }
            match serde_urlencoded::to_string(&q) {
                Ok(s) if !s.is_empty() => format!("{path}?{s}"),
                _ => path.to_owned(),
            }
        };
        Pager {
            page,
            prev_url: (page > 1).then(|| url(page - 1)),
            next_url: has_more.then(|| url(page + 1)),
        }
    }
}

pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::PartiallySucceeded => "partially succeeded",
        other => other.as_str(),
    }
}

#[derive(Debug, Clone)]
pub struct FailureView {
    pub tenant: String,
    pub reason_code: String,
    pub message: String,
}

/// A run as the console shows it.
#[derive(Debug, Clone)]
pub struct RunView {
    pub id: i64,
    pub runbook: String,
    pub scope: String,
    pub status: &'static str,
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    pub active: bool,
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub items_updated: i64,
    pub percent: i64,
    pub reason: String,
    pub created_at: String,
    pub started_at: String,
    pub completed_at: String,
    pub failures: Vec<FailureView>,
    pub retry_of: Option<i64>,
}

impl RunView {
    pub fn of(run: &Run) -> RunView {
        let c = &run.summary_counts;
        let percent = if c.total > 0 {
            (c.processed * 100 / c.total).clamp(0, 100)
        } else if run.is_active() {
            0
        } else {
            100
        };
        RunView {
            id: run.id,
            runbook: run.run_type.clone(),
            scope: run.context.scope.describe(),
            status: run.status.as_str(),
            outcome: outcome_label(run.outcome),
            outcome_class: match run.outcome {
                Outcome::Pending => {
                    if run.status == RunStatus::Running {
                        "running"
                    } else {
                        "queued"
                    }
                }
                Outcome::Succeeded => "ok",
                Outcome::PartiallySucceeded => "warn",
                Outcome::Failed => "bad",
                Outcome::Cancelled => "muted",
            },
            active: run.is_active(),
            total: c.total,
            processed: c.processed,
            succeeded: c.succeeded,
            failed: c.failed,
            items_updated: c.items_updated,
            percent,
            reason: run.context.reason.clone().unwrap_or_default(),
            created_at: time(&run.created_at),
            started_at: opt_time(&run.started_at),
            completed_at: opt_time(&run.completed_at),
            failures: run
                .failures
                .iter()
                .map(|f| FailureView {
                    tenant: f
                        .tenant_external_id
                        .clone()
                        .or_else(|| f.tenant_id.map(|id| format!("tenant #{id}")))
                        .unwrap_or_else(|| "—".into()),
                    reason_code: f.reason_code.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            retry_of: match &run.context.scope {
                Scope::Tenants { retry_of, .. } => Some(*retry_of),
                _ => None,
            },
        }
    }

    pub fn all(runs: &[Run]) -> Vec<RunView> {
        runs.iter().map(RunView::of).collect()
    }
}
