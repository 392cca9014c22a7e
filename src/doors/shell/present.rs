//! How runs and preflights are shown: JSON (Appendix A) with `--json`, text
//! otherwise.

use serde::Serialize;

use super::out;
use crate::runbooks::Preflight;
use crate::runs::{Initiator, Outcome, Run};

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
    out!(
        "  tenants:  {}/{} processed, {} succeeded, {} failed",
        c.processed,
        c.total,
        c.succeeded,
        c.failed
    );
    out!(
        "  items:    {} updated, {} skipped, {} failed",
        c.items_updated,
        c.items_skipped,
        c.items_failed
    );
    if let Some(reason) = &run.context.reason {
        out!("  reason:   {reason}");
    }
    out!("  started by: {}", initiator(&run.context.initiator));
    out!(
        "  created {} · started {} · completed {}",
        run.created_at.to_rfc3339(),
        run.started_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| "-".into()),
        run.completed_at
            .map(|t| t.to_rfc3339())
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
    if as_json {
        return json(runs);
    }
    if runs.is_empty() {
        out!("no runs");
    }
    for r in runs {
        let c = &r.summary_counts;
        out!(
            "{:>6}  {:<30} {:<10} {:<20} {:>5}/{:<5} {}",
            r.id,
            r.run_type,
            r.status.as_str(),
            r.outcome.as_str(),
            c.processed,
            c.total,
            r.created_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
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

fn initiator(i: &Initiator) -> String {
    match i {
        Initiator::PlatformUser { email, .. } => format!("operator {email}"),
        Initiator::Cli {
            os_user: Some(u),
            host: Some(h),
        } => format!("cli ({u}@{h})"),
        Initiator::Cli {
            os_user: Some(u), ..
        } => format!("cli ({u})"),
        Initiator::Cli { .. } => "cli".into(),
        Initiator::Deploy { release: Some(r) } => format!("deploy of release {r}"),
        Initiator::Deploy { release: None } => "deploy".into(),
    }
}
