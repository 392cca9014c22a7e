//! How runs and preflights are shown: JSON (Appendix A) with `--json`, text
//! otherwise.

use std::sync::OnceLock;

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

use super::out;
use crate::domain::csv_export;
use crate::domain::figures::{count, counted, duration, rate};
use crate::error::Result;
use crate::runbooks::Preflight;
use crate::runs::{Outcome, Run, TenantPage, TenantRow, TenantState};

/// How times are written: to the second, in UTC (the default) or in the
/// machine's local time zone (`--local-time`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Times {
    #[default]
    Utc,
    Local,
}

static TIMES: OnceLock<Times> = OnceLock::new();

impl Times {
    /// Chooses how this process writes times (once, from `--local-time`).
    pub fn choose(self) {
        let _ = TIMES.set(self);
    }

    fn chosen() -> Times {
        TIMES.get().copied().unwrap_or_default()
    }

    pub fn show(self, t: DateTime<Utc>) -> String {
        match self {
            Times::Utc => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            Times::Local => t
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string(),
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Times::Utc => "created (UTC)",
            Times::Local => "created (local)",
        }
    }
}

/// A value as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => out!("{s}"),
        Err(e) => eprintln!("tenantatlas: cannot encode output: {e}"),
    }
}

/// One value as JSON, or one line of text.
pub fn line<T: Serialize + ?Sized>(as_json: bool, value: &T, text: &str) {
    if as_json { json(value) } else { out!("{text}") }
}

/// One run with its counts and failures.
pub fn run(as_json: bool, run: &Run) {
    let times = Times::chosen();
    if as_json {
        return json(run);
    }
    let c = &run.summary_counts;
    let outcome = match run.outcome {
        Outcome::Pending => String::new(),
        o => format!(" ({})", o.as_str()),
    };
    out!(
        "Run {} · {} · {}",
        run.id,
        run.run_type,
        run.context.scope.describe()
    );
    out!("  status:   {}{}", run.status.as_str(), outcome);
    out!("  tenants:  {}", run.progress.sentence());
    out!(
        "  items:    {} updated, {} skipped, {} failed",
        count(c.items_updated),
        count(c.items_skipped),
        count(c.items_failed)
    );
    if let Some(expected) = run.items_expected {
        out!(
            "  expected: {}, {} done",
            counted(expected, "item", "items"),
            count(c.items_updated + c.items_skipped)
        );
    }
    if run.is_paused() {
        out!("  rate:     paused");
    } else if let Some(e) = &run.estimate {
        out!(
            "  rate:     {} items/s · {}",
            rate(e.items_per_second),
            match e.seconds_remaining {
                Some(s) => format!("{} remaining", duration(s * 1000)),
                None => "time remaining unknown".into(),
            }
        );
    }
    let l = &run.limits;
    if l.max_concurrency.is_some() || l.max_errors.is_some() {
        out!(
            "  limits:   max concurrency {} · max errors {}{}",
            l.max_concurrency.as_deref().unwrap_or("none"),
            l.max_errors.as_deref().unwrap_or("none"),
            l.min_finished
                .map(|n| format!(" (after {n} finished)"))
                .unwrap_or_default()
        );
    }
    if let Some(code) = &run.reason_code {
        out!("  stopped:  {code}");
    }
    if let Some(of) = run.context.retry_of {
        out!("  retry of: run {of}");
    }
    if !run.retries.is_empty() {
        let ids: Vec<String> = run.retries.iter().map(i64::to_string).collect();
        out!("  retried by: run {}", ids.join(", "));
    }
    if let Some(reason) = &run.context.reason {
        out!("  reason:   {reason}");
    }
    out!("  started by: {}", run.context.initiator.describe());
    out!(
        "  created {} · started {} · completed {}",
        times.show(run.created_at),
        run.started_at
            .map(|t| times.show(t))
            .unwrap_or_else(|| "-".into()),
        run.completed_at
            .map(|t| times.show(t))
            .unwrap_or_else(|| "-".into())
    );
    if !run.failures.is_empty() {
        out!("  failures:");
        for f in &run.failures {
            out!(
                "    {:<16} {:<32} {}",
                f.tenant_external_id.as_deref().unwrap_or("-"),
                f.reason_code,
                f.message
            );
        }
    }
}

/// Runs, one a line.
pub fn runs(as_json: bool, runs: &[Run]) {
    let times = Times::chosen();
    if as_json {
        return json(runs);
    }
    if runs.is_empty() {
        out!("no runs");
    }
    if !runs.is_empty() {
        out!(
            "{:>6}  {:<30} {:<10} {:<20} {:<23} tenants",
            "id",
            "runbook",
            "status",
            "outcome",
            times.heading()
        );
    }
    for r in runs {
        let p = &r.progress;
        let mut tenants = format!("{}/{} ran", count(p.ran()), count(p.total));
        for (n, words) in p.parts().into_iter().skip(2) {
            tenants.push_str(&format!(", {} {words}", count(n)));
        }
        out!(
            "{:>6}  {:<30} {:<10} {:<20} {:<23} {tenants}",
            r.id,
            r.run_type,
            r.status.as_str(),
            r.outcome.as_str(),
            times.show(r.created_at),
        );
    }
}

/// One page of a run's tenants with the box score.
pub fn tenants(as_json: bool, page: &TenantPage) {
    if as_json {
        return json(page);
    }
    let b = &page.box_score;
    let score: Vec<String> = TenantState::ALL
        .iter()
        .map(|s| format!("{} {}", b.get(*s), s.as_str()))
        .collect();
    out!(
        "Run {} · {} tenant(s): {}",
        page.run_id,
        b.total,
        score.join(", ")
    );
    out!(
        "{:<24} {:<12} {:>9} {:>8} {:>8} {:>7} {:>4} {:>9}  reason",
        "tenant",
        "state",
        "expected",
        "updated",
        "skipped",
        "failed",
        "try",
        "duration"
    );
    for r in &page.rows {
        out!(
            "{:<24} {:<12} {:>9} {:>8} {:>8} {:>7} {:>4} {:>9}  {}",
            r.external_id,
            r.state.as_str(),
            r.items_expected
                .map(|n| n.to_string())
                .unwrap_or("-".into()),
            r.items_updated,
            r.items_skipped,
            r.items_failed,
            r.attempts,
            r.duration_ms.map(duration).unwrap_or("-".into()),
            r.reason_code.as_deref().unwrap_or("")
        );
    }
    let last = (page.matching + page.per_page - 1) / page.per_page.max(1);
    out!(
        "page {} of {} · {} matching tenant(s)",
        page.page,
        last.max(1),
        page.matching
    );
}

/// A run's tenants as CSV on stdout (the web export's very bytes).
pub fn tenants_csv(rows: &[TenantRow]) -> Result<()> {
    super::out::write_text(&csv_export::tenants_csv(rows)?);
    Ok(())
}

/// What a run would do.
pub fn preflight(as_json: bool, p: &Preflight) {
    if as_json {
        return json(p);
    }
    out!("Preflight {} · {}", p.runbook, p.scope.describe());
    out!("  tenants in scope: {}", p.tenants);
    out!("  items pending:    {}", p.items_pending);
    for t in p.per_tenant.iter().filter(|t| t.items_pending > 0).take(20) {
        out!("    {:<24} {}", t.tenant_external_id, t.items_pending);
    }
    let more = p
        .per_tenant
        .iter()
        .filter(|t| t.items_pending > 0)
        .count()
        .saturating_sub(20);
    if more > 0 {
        out!("    … and {more} more tenant(s) with work");
    }
    match p.active_run_id {
        Some(id) => out!("  active run:       {id} (starting again returns it)"),
        None => out!("  active run:       none"),
    }
    out!(
        "  can start:        {}",
        if p.can_start { "yes" } else { "no" }
    );
}
