//! A run as every page shows it (the lists, the dashboard, View run, the
//! confirmations, the customer plane): [`RunView`] is the run itself, which
//! templates read through it, with its runbook's title and the moment it is
//! shown; its methods answer in words — where it stands, who started it, how
//! long it took, counts with thousands separators.

use std::ops::Deref;

use chrono::{DateTime, Utc};

use super::super::kit::WebState;
use super::super::kit::format::{count, duration, plural};
use crate::console::FailureGroup;
use crate::domain::figures::rate;
use crate::runs::{Initiator, Outcome, Run, RunStatus, Scope};

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

    /// The one word (or two) for where the run stands.
    pub fn label(&self) -> &'static str {
        match (self.status, self.outcome) {
            (RunStatus::Queued, _) => "Queued",
            (RunStatus::Running, _) => "Running",
            (RunStatus::Paused, _) => "Paused",
            (_, Outcome::Succeeded) => "Succeeded",
            (_, Outcome::PartiallySucceeded) => "Partially succeeded",
            (_, Outcome::Failed) => "Failed",
            (_, Outcome::Cancelled) => "Cancelled",
            (_, Outcome::Pending) => "Completed",
        }
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

    /// The customer plane's badge: the status while active, else the outcome.
    pub fn badge(&self) -> &'static str {
        match self.is_active() {
            true => self.status.as_str(),
            false => self.outcome_label(),
        }
    }

    pub fn outcome_label(&self) -> &'static str {
        match self.outcome {
            Outcome::PartiallySucceeded => "partially succeeded",
            other => other.as_str(),
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

    /// "973 of 2,001 tenants ran: 950 succeeded, 23 failed, 1,028 not
    /// started": what became of the tenants (never "100%" for a run that
    /// stopped or was cancelled).
    pub fn progress_line(&self) -> String {
        self.progress.sentence()
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

    pub fn who(&self) -> String {
        who(&self.context.initiator)
    }

    /// The scope in words, with counts formatted.
    pub fn scope_words(&self) -> String {
        match &self.context.scope {
            Scope::AllTenants => "All tenants".into(),
            Scope::Tenant {
                tenant_external_id, ..
            } => format!("Tenant {tenant_external_id}"),
            Scope::Tenants {
                tenant_ids,
                retry_of,
                ..
            } => format!(
                "Retry of {} of run #{retry_of}",
                plural(tenant_ids.len() as i64, "tenant")
            ),
        }
    }

    /// The run this one retries.
    pub fn retry_of(&self) -> Option<i64> {
        match &self.context.scope {
            Scope::Tenants { retry_of, .. } => Some(*retry_of),
            _ => None,
        }
    }

    pub fn reason(&self) -> &str {
        self.context.reason.as_deref().unwrap_or_default()
    }

    /// How long the run took, or has been running; blank while queued.
    pub fn took(&self) -> String {
        match (self.started_at, self.completed_at) {
            (Some(start), Some(end)) => duration((end - start).num_milliseconds()),
            (Some(start), None) => duration((self.now - start).num_milliseconds()),
            _ => String::new(),
        }
    }

    /// View run's status line beside the bar's legend: the state, how long
    /// it took or has run, and a pause's meaning.
    pub fn status_line(&self) -> String {
        let mut line = self.label().to_owned();
        match self.took() {
            took if took.is_empty() => {}
            took if self.is_active() => line += &format!(" · running for {took}"),
            took => line += &format!(" · took {took}"),
        }
        if self.is_paused() {
            line += " · paused: no new tenant starts until it is resumed";
        }
        line
    }

    /// Where the run stands, rounded to tens, for screen readers.
    pub fn announce(&self) -> String {
        let tens = self.progress.percent / 10 * 10;
        format!("Run #{}: {}, {tens}% of tenants ran", self.id, self.label())
    }

    /// A confirmation's counts ("Running: 3 of 10 tenants ran: …").
    pub fn counts_line(&self) -> String {
        format!("{}: {}", self.label(), self.progress_line())
    }

    /// Expected items against those done, when the start counted them.
    pub fn expected_line(&self) -> String {
        let c = &self.summary_counts;
        let Some(e) = self.items_expected else {
            return String::new();
        };
        let done = c.items_updated + c.items_skipped;
        let pct = if e > 0 {
            (done * 100 / e).clamp(0, 100)
        } else {
            100
        };
        format!(
            "Expected {} · done {} ({pct}%): {} updated, {} skipped",
            plural(e, "item"),
            count(done),
            count(c.items_updated),
            count(c.items_skipped)
        )
    }

    /// Rate so far and time remaining, while the run goes; while paused
    /// there is no countdown.
    pub fn eta_line(&self) -> String {
        if self.is_paused() {
            return "Paused: no time left is counted until the run is resumed".into();
        }
        match (&self.estimate, self.is_active()) {
            (Some(est), true) => {
                let rate = format!("{} items a second so far", rate(est.items_per_second));
                match est.seconds_remaining {
                    Some(left) => format!("{rate} · about {} left", duration(left * 1_000)),
                    None => format!("{rate} · time left not yet known"),
                }
            }
            _ => String::new(),
        }
    }

    /// Some tenants failed, were not started or were cancelled.
    pub fn retryable(&self) -> bool {
        self.summary_counts.failed > 0 || self.not_started > 0 || self.outcome == Outcome::Cancelled
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

    /// The limits in words, for View run's controls.
    pub fn limits_summary(&self) -> String {
        let l = &self.limits;
        let cap = match &l.max_concurrency {
            Some(c) => format!("at most {c} tenants at once"),
            None => "no concurrency cap".into(),
        };
        let budget = match (&l.max_errors, l.min_finished) {
            (Some(e), Some(m)) if e.ends_with('%') => format!(
                "stops when more than {e} of tenants fail (once {} have finished)",
                count(m)
            ),
            (Some(e), _) => format!("stops when more than {e} tenants fail"),
            (None, _) => "no error budget".into(),
        };
        format!("{cap}; {budget}")
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

/// Who started a run: an operator's email, the CLI's user (and host), or
/// the deploy of a release.
fn who(i: &Initiator) -> String {
    match i {
        Initiator::PlatformUser { email, .. } => email.clone(),
        Initiator::Cli { os_user, host } => match (os_user, host) {
            (Some(user), Some(host)) => format!("CLI: {user} on {host}"),
            (Some(user), None) => format!("CLI: {user}"),
            (None, Some(host)) => format!("CLI on {host}"),
            (None, None) => "CLI".into(),
        },
        Initiator::Deploy { release } => match release {
            Some(r) => format!("Deploy of release {r}"),
            None => "Deploy".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initiator_is_shown_as_who() {
        let cli = Initiator::Cli {
            os_user: Some("ana".into()),
            host: Some("build-01".into()),
        };
        assert_eq!(who(&cli), "CLI: ana on build-01");
        let deploy = Initiator::Deploy {
            release: Some("2026.3".into()),
        };
        assert_eq!(who(&deploy), "Deploy of release 2026.3");
    }
}
