//! The message every channel renders: made from a completed run, a run that
//! recovered, or a throttled sign-in.

use serde::Serialize;

use crate::alerts::values::Severity;
use crate::domain::figures::count;
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
    /// Labelled facts shown instead of runbook, scope and outcome (a
    /// sign-in event has no runbook). Absent in messages queued before.
    #[serde(default)]
    pub facts: Vec<(String, String)>,
    /// Labelled links shown instead of the one "View run" link.
    #[serde(default)]
    pub links: Vec<(String, String)>,
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
                "{} ({} items updated, {} failed).{}",
                run.progress.sentence(),
                count(c.items_updated),
                count(c.items_failed),
                stopped(run)
            ),
            runbook: run.run_type.clone(),
            scope: run.context.scope.describe(),
            outcome: run.outcome.as_str().into(),
            severity: severity.as_str().into(),
            counts: run_counts(run),
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
            facts: vec![],
            links: vec![],
        }
    }

    /// The notice of a run that succeeded where its predecessor (same
    /// runbook and scope) had not: both runs are linked.
    pub fn for_recovery(
        run: &Run,
        previous_id: i64,
        previous: Outcome,
        public_url: &str,
    ) -> AlertMessage {
        let c = &run.summary_counts;
        let scope = run.context.scope.describe();
        AlertMessage {
            title: format!("Run {} recovered: {} on {scope}", run.id, run.run_type),
            summary: format!(
                "{} on {scope} succeeded in run {} after run {previous_id} {}: {} tenants, {} items updated.",
                run.run_type,
                run.id,
                outcome_words(previous),
                c.total,
                c.items_updated
            ),
            runbook: run.run_type.clone(),
            scope,
            outcome: run.outcome.as_str().into(),
            severity: Severity::Info.as_str().into(),
            counts: vec![
                ("tenants".into(), c.total),
                ("succeeded".into(), c.succeeded),
                ("items updated".into(), c.items_updated),
            ],
            failures: vec![],
            url: run_url(public_url, run.id),
            facts: vec![
                ("Runbook".into(), run.run_type.clone()),
                ("Scope".into(), run.context.scope.describe()),
                ("Outcome".into(), run.outcome.as_str().into()),
                (
                    "Previous run".into(),
                    format!("{previous_id} ({})", previous.as_str()),
                ),
                ("Severity".into(), Severity::Info.as_str().into()),
            ],
            links: vec![
                (format!("View run {}", run.id), run_url(public_url, run.id)),
                (
                    format!("View {} run {previous_id}", outcome_words(previous)),
                    run_url(public_url, previous_id),
                ),
            ],
        }
    }

    /// The facts every channel shows: the message's own, or runbook,
    /// scope, outcome and severity.
    pub fn fact_list(&self) -> Vec<(String, String)> {
        if !self.facts.is_empty() {
            return self.facts.clone();
        }
        vec![
            ("Runbook".into(), self.runbook.clone()),
            ("Scope".into(), self.scope.clone()),
            ("Outcome".into(), self.outcome.clone()),
            ("Severity".into(), self.severity.clone()),
        ]
    }

    /// The links every channel shows: the message's own, or "View run".
    pub fn link_list(&self) -> Vec<(String, String)> {
        if !self.links.is_empty() {
            return self.links.clone();
        }
        vec![("View run".into(), self.url.clone())]
    }
}

/// A completed run's counts: its tenants by what became of them (not
/// started and cancelled when there are any), then its items.
fn run_counts(run: &Run) -> Vec<(String, i64)> {
    let (p, c) = (&run.progress, &run.summary_counts);
    let mut counts = vec![
        ("tenants".to_owned(), p.total),
        ("succeeded".to_owned(), p.succeeded),
        ("failed".to_owned(), p.failed),
    ];
    for (n, words) in [(p.not_started, "not started"), (p.cancelled, "cancelled")] {
        if n > 0 {
            counts.push((words.to_owned(), n));
        }
    }
    counts.push(("items updated".to_owned(), c.items_updated));
    counts.push(("items failed".to_owned(), c.items_failed));
    counts
}

/// Why a run stopped early, for its summary (empty when it did not).
fn stopped(run: &Run) -> String {
    match &run.reason_code {
        Some(code) => format!(" Stopped: {code}."),
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
