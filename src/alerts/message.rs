//! The message every channel renders, made from a completed run.

use serde::Serialize;

use crate::alerts::rules::Severity;
use crate::domain::run::{Outcome, Run};

/// The message every channel renders.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AlertMessage {
    pub title: String,
    pub summary: String,
    pub runbook: String,
    pub scope: String,
    pub outcome: String,
    pub severity: String,
    pub counts: Vec<(String, i64)>,
    pub failures: Vec<String>,
    pub url: String,
}

impl AlertMessage {
    pub fn for_run(run: &Run, severity: Severity, public_url: &str) -> AlertMessage {
        let c = &run.summary_counts;
        AlertMessage {
            title: format!(
                "Run {} {}: {}",
                run.id,
                outcome_words(run.outcome),
                run.run_type
            ),
            summary: format!(
                "{} of {} tenants failed ({} items updated, {} failed).{}",
                c.failed,
                c.total,
                c.items_updated,
                c.items_failed,
                stopped(run)
            ),
            runbook: run.run_type.clone(),
            scope: run.context.scope.describe(),
            outcome: run.outcome.as_str().into(),
            severity: severity.as_str().into(),
            counts: vec![
                ("tenants".into(), c.total),
                ("succeeded".into(), c.succeeded),
                ("failed".into(), c.failed),
                ("items updated".into(), c.items_updated),
                ("items failed".into(), c.items_failed),
            ],
            failures: run
                .failures
                .iter()
                .take(5)
                .map(|f| {
                    format!(
                        "{}: {} — {}",
                        f.tenant_external_id.as_deref().unwrap_or("-"),
                        f.reason_code,
                        f.message
                    )
                })
                .collect(),
            url: run_url(public_url, run.id),
        }
    }
}

/// Why a run stopped early, for its summary (empty when it did not).
fn stopped(run: &Run) -> String {
    match &run.reason_code {
        Some(code) => format!(
            " Stopped: {code}; {} tenant(s) not started.",
            run.not_started
        ),
        None => String::new(),
    }
}

pub fn run_url(public_url: &str, run_id: i64) -> String {
    format!("{}/system/runs/{run_id}", public_url.trim_end_matches('/'))
}

pub fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "succeeded",
        Outcome::PartiallySucceeded => "partially succeeded",
        Outcome::Failed => "failed",
        Outcome::Cancelled => "was cancelled",
        Outcome::Pending => "is pending",
    }
}
