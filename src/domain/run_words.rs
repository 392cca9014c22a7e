//! A run in words, as every door writes it to a person: where it stands,
//! who started it, its scope, how long it took, what became of its tenants,
//! its items against the preflight, its rate and time left, its limits.

use chrono::{DateTime, Utc};

use crate::domain::figures::{count, duration, plural, rate};
use crate::domain::run::{Initiator, Outcome, Run, RunStatus, Scope};

impl Run {
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

    /// "973 of 2,001 tenants ran: 950 succeeded, 23 failed, 1,028 not
    /// started": what became of the tenants (never "100%" for a run that
    /// stopped or was cancelled).
    pub fn progress_line(&self) -> String {
        self.progress.sentence()
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
    pub fn took(&self, now: DateTime<Utc>) -> String {
        match (self.started_at, self.completed_at) {
            (Some(start), Some(end)) => duration((end - start).num_milliseconds()),
            // While it goes: its working time, pauses left out.
            (Some(_), None) => self.running_ms(now).map(duration).unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// View run's status line beside the bar's legend: the state, how long
    /// it took or has run, and a pause's meaning.
    pub fn status_line(&self, now: DateTime<Utc>) -> String {
        let mut line = self.label().to_owned();
        match self.took(now) {
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

    pub fn who(&self) -> String {
        self.context.initiator.describe()
    }
}

impl Run {
    /// What a customer is told of a run that did not simply succeed, in
    /// their words (empty otherwise).
    pub fn customer_note(&self) -> String {
        let p = &self.progress;
        let tenants = |n: i64| plural(n, "tenant");
        match self.outcome {
            Outcome::Cancelled => format!(
                "The platform team cancelled this maintenance: {} not updated and left as they were.",
                tenants(p.cancelled + p.not_started)
            ),
            Outcome::Failed | Outcome::PartiallySucceeded if p.not_started > 0 => format!(
                "This maintenance stopped early because too many tenants could not be updated: {} failed, and {} not started were left as they were. The platform team has been told.",
                count(p.failed),
                tenants(p.not_started)
            ),
            Outcome::Failed | Outcome::PartiallySucceeded => format!(
                "{} could not be updated and {} left as they were; the platform team has been told and will follow up.",
                tenants(p.failed),
                if p.failed == 1 { "was" } else { "were" }
            ),
            _ => String::new(),
        }
    }
}

impl Initiator {
    /// Who started a run: an operator's email, the CLI's user (and host), or
    /// the deploy of a release.
    pub fn describe(&self) -> String {
        match self {
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
        assert_eq!(cli.describe(), "CLI: ana on build-01");
        let deploy = Initiator::Deploy {
            release: Some("2026.3".into()),
        };
        assert_eq!(deploy.describe(), "Deploy of release 2026.3");
    }
}
