//! Runs as the run pages and the dashboard show them: a human state label,
//! the runbook's title beside its key, who started it, how long it took,
//! and counts with thousands separators.

use chrono::{DateTime, Utc};

use super::super::kit::format::{count, duration, plural};
use super::super::kit::views::percent;
use super::super::kit::{TimeTag, WebState};
use crate::runs::{Initiator, Outcome, Run, RunStatus, Scope};

/// The one word (or two) for where a run stands.
pub fn state_label(run: &Run) -> &'static str {
    match (run.status, run.outcome) {
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

/// The badge class of a run's state (colours in app.css).
pub fn state_class(run: &Run) -> &'static str {
    match (run.status, run.outcome) {
        (RunStatus::Queued, _) => "queued",
        (RunStatus::Running, _) => "running",
        (RunStatus::Paused, _) => "paused",
        (_, Outcome::Succeeded) => "ok",
        (_, Outcome::PartiallySucceeded) => "warn",
        (_, Outcome::Failed) => "bad",
        _ => "muted",
    }
}

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

/// Who started a run: an operator's email, the CLI's user (and host), or
/// the deploy of a release.
pub fn who(i: &Initiator) -> String {
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

/// How long a run took, or has been running; blank while queued.
pub fn run_duration(run: &Run, now: DateTime<Utc>) -> String {
    match (run.started_at, run.completed_at) {
        (Some(start), Some(end)) => duration((end - start).num_milliseconds()),
        (Some(start), None) => duration((now - start).num_milliseconds()),
        _ => String::new(),
    }
}

/// The scope in words, with counts formatted.
pub fn scope_text(scope: &Scope) -> String {
    match scope {
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

/// One run as a row of a list.
#[derive(Debug, Clone)]
pub struct RunLine {
    pub id: i64,
    pub title: String,
    pub key: String,
    pub scope: String,
    pub label: &'static str,
    pub class: &'static str,
    pub percent: i64,
    /// "1,234 of 20,009 tenants".
    pub progress: String,
    pub failed: i64,
    pub failed_text: String,
    pub who: String,
    pub created_at: TimeTag,
    pub duration: String,
}

impl RunLine {
    /// `title` is the runbook's title (its key when it has none).
    pub fn of(run: &Run, title: Option<&str>, now: DateTime<Utc>) -> RunLine {
        let c = &run.summary_counts;
        RunLine {
            id: run.id,
            title: title.unwrap_or(&run.run_type).to_owned(),
            key: run.run_type.clone(),
            scope: scope_text(&run.context.scope),
            label: state_label(run),
            class: state_class(run),
            percent: percent(run),
            progress: format!("{} of {}", count(c.processed), plural(c.total, "tenant")),
            failed: c.failed,
            failed_text: format!("{} failed", count(c.failed)),
            who: who(&run.context.initiator),
            created_at: TimeTag::at(&run.created_at),
            duration: run_duration(run, now),
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
        assert_eq!(who(&cli), "CLI: ana on build-01");
        let deploy = Initiator::Deploy {
            release: Some("2026.3".into()),
        };
        assert_eq!(who(&deploy), "Deploy of release 2026.3");
    }
}

/// Which of `fields` an error message names (`status: …`, `unknown status
/// …`), and the message as a sentence. No field named: `""`.
pub fn field_error(message: &str, fields: &[&'static str]) -> (&'static str, String) {
    let lower = message.to_lowercase();
    let field = fields
        .iter()
        .find(|f| {
            lower.starts_with(&format!("{f}:"))
                || lower.starts_with(&format!("{f} must"))
                || lower.starts_with(&format!("{f} as a"))
                || lower.starts_with(&format!("{f} is"))
                || lower.starts_with(&format!("unknown {f}"))
                || lower.starts_with(&format!("choose a {f}"))
        })
        .copied()
        .unwrap_or("");
    (field, sentence(message))
}

/// The first letter upper-case and a full stop at the end.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn an_error_is_put_beside_the_field_it_names() {
        let fields = ["status", "tenant"];
        assert_eq!(
            field_error("unknown status \"x\" (queued)", &fields),
            ("status", "Unknown status \"x\" (queued).".to_owned())
        );
        assert_eq!(
            field_error("tenant: must not be empty", &fields).0,
            "tenant"
        );
        assert_eq!(field_error("database is down", &fields).0, "");
    }
}

/// Runs as rows, each with its runbook's title.
pub fn lines(state: &WebState, runs: &[Run]) -> Vec<RunLine> {
    let now = state.app.clock.now();
    let service = state.app.runbooks();
    runs.iter()
        .map(|r| RunLine::of(r, service.title_of(&r.run_type), now))
        .collect()
}
