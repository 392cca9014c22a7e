//! A run as every page shows it (the lists, the dashboard, View run, the
//! confirmations, the customer plane): [`RunView`] is the run itself, which
//! templates read through it, with its runbook's title and the moment it is
//! shown; its methods answer in words — where it stands, who started it, how
//! long it took, counts with thousands separators.

use std::ops::Deref;

use chrono::{DateTime, Utc};

use super::super::kit::WebState;
use super::super::kit::format::count;
use crate::console::FailureGroup;
use crate::runs::{Outcome, Run, RunStatus};

/// Failure rows View run lists; the rest are summed up by reason code.
const FAILURE_ROWS: usize = 20;

/// Human labels of the status and outcome filters, by their values.
pub const STATUS_LABELS: [(&str, &str); 4] = [
    ("queued", "Queued"),
    ("running", "Running"),
    ("paused", "Paused"),
    ("completed", "Completed"),
];
pub const OUTCOME_LABELS: [(&str, &str); 5] = [
    ("pending", "Not finished"),
    ("succeeded", "Succeeded"),
    ("partially_succeeded", "Partially succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
];

#[derive(Debug, Clone)]
pub struct RunView {
    run: Run,
    /// The runbook's title (its key when it has none).
    pub title: String,
    now: DateTime<Utc>,
}

impl Deref for RunView {
    type Target = Run;

    fn deref(&self) -> &Run {
        &self.run
    }
}

/// One failure row: the tenant (its external id, else its number).
#[derive(Debug, Clone)]
pub struct FailureView {
    pub tenant: String,
    pub reason_code: String,
    pub message: String,
}

impl RunView {
    /// How long the run took, or has been running; blank while queued.
    pub fn took(&self) -> String {
        self.run.took(self.now)
    }

    /// View run's status line beside the bar's legend.
    pub fn status_line(&self) -> String {
        self.run.status_line(self.now)
    }

    pub fn of(state: &WebState, run: Run) -> RunView {
        let title = state.app.runbooks().title_of(&run.run_type);
        RunView {
            title: title.unwrap_or(&run.run_type).to_owned(),
            now: state.app.clock.now(),
            run,
        }
    }

    pub fn all(state: &WebState, runs: Vec<Run>) -> Vec<RunView> {
        runs.into_iter().map(|r| RunView::of(state, r)).collect()
    }

    /// The badge class of the run's state (colours in app.css).
    pub fn class(&self) -> &'static str {
        match (self.status, self.outcome) {
            (RunStatus::Queued, _) => "queued",
            (RunStatus::Running, _) => "running",
            (RunStatus::Paused, _) => "paused",
            (_, Outcome::Pending) => "muted",
            _ => self.outcome_class(),
        }
    }

    /// The colour of the outcome (a paused run's is `queued`).
    pub fn outcome_class(&self) -> &'static str {
        match self.outcome {
            Outcome::Pending if self.status == RunStatus::Running => "running",
            Outcome::Pending => "queued",
            Outcome::Succeeded => "ok",
            Outcome::PartiallySucceeded => "warn",
            Outcome::Failed => "bad",
            Outcome::Cancelled => "muted",
        }
    }

    /// The parts with their bar colours (the legend beside the bar).
    pub fn progress_parts(&self) -> Vec<(i64, &'static str, &'static str)> {
        self.progress
            .parts()
            .into_iter()
            .map(|(n, words)| (n, words, part_class(words)))
            .collect()
    }

    /// The bar's coloured segments: class, start and width in percent.
    pub fn bar_segments(&self) -> Vec<(&'static str, String, String)> {
        let b = self.progress.bar();
        let mut x = 0.0;
        let mut segments = Vec::new();
        for (class, width) in [
            ("ok", b.succeeded),
            ("bad", b.failed),
            ("skip", b.not_started),
            ("gone", b.cancelled),
        ] {
            if width > 0.0 {
                segments.push((class, format!("{x:.2}"), format!("{width:.2}")));
                x += width;
            }
        }
        segments
    }

    /// The first failure rows; the rest are counted in the groups.
    pub fn failure_rows(&self) -> Vec<FailureView> {
        let rows = self.failures.iter().take(FAILURE_ROWS);
        rows.map(|f| FailureView {
            tenant: f
                .tenant_external_id
                .clone()
                .or_else(|| f.tenant_id.map(|id| format!("tenant #{id}")))
                .unwrap_or_else(|| "—".into()),
            reason_code: f.reason_code.clone(),
            message: f.message.clone(),
        })
        .collect()
    }

    /// The failures beyond the rows listed, in words; blank when none.
    pub fn failures_more(&self, groups: &[FailureGroup]) -> String {
        let total: i64 = groups.iter().map(|g| g.failures).sum();
        let more = total - self.failures.len().min(FAILURE_ROWS) as i64;
        match more > 0 {
            true => format!("and {} more, counted by reason code above", count(more)),
            false => String::new(),
        }
    }
}

/// The bar colour of a part of the progress.
fn part_class(words: &str) -> &'static str {
    match words {
        "succeeded" => "ok",
        "failed" => "bad",
        "not started" => "skip",
        "cancelled" => "gone",
        _ => "rest",
    }
}
