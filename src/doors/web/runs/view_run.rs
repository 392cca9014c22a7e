//! View run: one status line, the duration, expected against done with the
//! rate and time remaining while it goes, the box score and per-tenant
//! table, the operator's controls (pause, resume, limits), failures by
//! reason code, and the links between a run and its retries.

use askama::Template;
use axum::response::Response;

use super::super::kit::format::{count, duration, plural};
use super::super::kit::views::FailureView;
use super::super::kit::{Chrome, Ctx, Flash, Query, RunId, RunView, WebError, page};
use super::present;
use super::tenants::{SORTS, STATE_LABELS, TenantTable, TenantsQuery, filters};
use crate::console::FailureGroup;
use crate::domain::Capability;
use crate::runs::{Run, SummaryCounts};

/// Failure rows View run lists; the rest are summed up by reason code.
const FAILURE_ROWS: usize = 20;

/// View run: the live part and what does not change.
#[derive(Template)]
#[template(path = "system/run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunView,
    live: LiveView,
    can_act: bool,
    title: String,
    scope: String,
    who: String,
    retries: Vec<i64>,
    table: TenantTable,
    states: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, &'static str)>,
    controls: Option<Controls>,
    /// What a control just did (pause, resume, limits, retry), once.
    flash: Option<Flash>,
}

/// The operator's controls of an active run: pause or resume, and limits.
#[derive(Debug, Clone)]
struct Controls {
    paused: bool,
    max_concurrency: String,
    max_errors: String,
    min_finished: String,
    /// The limits in words.
    summary: String,
}

impl Controls {
    fn of(run: &Run) -> Controls {
        let l = &run.limits;
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
        Controls {
            paused: run.is_paused(),
            max_concurrency: l.max_concurrency.clone().unwrap_or_default(),
            max_errors: l.max_errors.clone().unwrap_or_default(),
            min_finished: l.min_finished.map(|m| m.to_string()).unwrap_or_default(),
            summary: format!("{cap}; {budget}"),
        }
    }
}

#[derive(Template)]
#[template(path = "system/run_live.html")]
struct RunLive {
    run: RunView,
    live: LiveView,
    can_act: bool,
}

/// What View run shows beside [`RunView`]: one status line, the duration,
/// counts formatted, failures grouped by reason code.
#[derive(Debug, Clone)]
pub struct LiveView {
    pub label: &'static str,
    pub class: &'static str,
    pub status_line: String,
    /// Rounded to tens, for screen readers (announced when it changes).
    pub announce: String,
    pub duration: String,
    /// The run's counts (formatted by the template).
    pub counts: SummaryCounts,
    pub groups: Vec<FailureGroup>,
    /// The first failure rows; the rest are counted in the groups.
    pub failures: Vec<FailureView>,
    pub failures_more: String,
    /// Expected items against those done, when the start counted them.
    pub expected_line: String,
    /// Rate so far and time remaining, while the run goes.
    pub eta_line: String,
    /// Why the run ended as it did, beyond its tenants' results.
    pub reason_code: String,
    /// Some tenants failed, were not started or were cancelled.
    pub retryable: bool,
}

impl LiveView {
    fn of(run: &Run, groups: Vec<FailureGroup>, now: chrono::DateTime<chrono::Utc>) -> LiveView {
        let c = &run.summary_counts;
        let label = present::state_label(run);
        let took = present::run_duration(run, now);
        let mut line = format!(
            "{label} · {} of {} processed",
            count(c.processed),
            plural(c.total, "tenant")
        );
        if c.failed > 0 {
            line += &format!(" · {} failed", count(c.failed));
        }
        if !took.is_empty() {
            line += &if run.is_active() {
                format!(" · running for {took}")
            } else {
                format!(" · took {took}")
            };
        }
        if run.is_paused() {
            line += " · paused: no new tenant starts until it is resumed";
        }
        let pct = super::super::kit::views::percent(run);
        let done = c.items_updated + c.items_skipped;
        let expected_line = match run.items_expected {
            Some(e) => format!(
                "Expected {} · done {} ({}%): {} updated, {} skipped",
                plural(e, "item"),
                count(done),
                if e > 0 {
                    (done * 100 / e).clamp(0, 100)
                } else {
                    100
                },
                count(c.items_updated),
                count(c.items_skipped)
            ),
            None => String::new(),
        };
        let eta_line = match (&run.estimate, run.is_active()) {
            (Some(est), true) => {
                let rate = format!("{:.1} items a second so far", est.items_per_second);
                match est.seconds_remaining {
                    Some(left) => format!("{rate} · about {} left", duration(left * 1_000)),
                    None => format!("{rate} · time left not yet known"),
                }
            }
            _ => String::new(),
        };
        let failures_total: i64 = groups.iter().map(|g| g.failures).sum();
        let shown = run.failures.len().min(FAILURE_ROWS);
        let more = failures_total - shown as i64;
        LiveView {
            label,
            class: present::state_class(run),
            status_line: line,
            announce: format!("Run #{}: {label}, {}% processed", run.id, pct / 10 * 10),
            duration: took,
            counts: c.clone(),
            groups,
            failures: RunView::of(run).failures.into_iter().take(shown).collect(),
            failures_more: if more > 0 {
                format!("and {} more, counted by reason code above", count(more))
            } else {
                String::new()
            },
            expected_line,
            eta_line,
            reason_code: run.reason_code.clone().unwrap_or_default(),
            retryable: c.failed > 0
                || run.not_started > 0
                || run.outcome == crate::runs::Outcome::Cancelled,
        }
    }
}

/// The run and its live part, read side by side (failures grouped by
/// reason are kept only for a run with failures).
async fn run_and_live(cx: &Ctx, run_id: i64) -> Result<(Run, LiveView), WebError> {
    let (runs, console, actor) = (cx.state.app.runs(), cx.state.app.run_lists(), cx.actor());
    let (run, groups) = tokio::try_join!(
        runs.run(&actor, run_id),
        console.failure_groups(&cx.op.identity, run_id),
    )?;
    let groups = if run.summary_counts.failed > 0 || !run.failures.is_empty() {
        groups
    } else {
        vec![]
    };
    let live = LiveView::of(&run, groups, cx.state.app.clock.now());
    Ok((run, live))
}

pub async fn view_run(
    cx: Ctx,
    RunId(id): RunId,
    Query(ask): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    // Independent reads, side by side: under load the page waits for the
    // slowest, not for their sum.
    let ((run, live), table, chrome) = tokio::try_join!(
        run_and_live(&cx, id),
        TenantTable::load(&cx, id, ask),
        cx.chrome("runs"),
    )?;
    let can_act = cx.op.can(Capability::RUNBOOKS_RUN);
    page(&RunPage {
        chrome,
        title: cx.title_of(&run.run_type),
        who: present::who(&run.context.initiator),
        scope: present::scope_text(&run.context.scope),
        controls: (can_act && run.is_active()).then(|| Controls::of(&run)),
        retries: run.retries.clone(),
        table: table.of(&run),
        run: RunView::of(&run),
        live,
        can_act,
        states: STATE_LABELS
            .iter()
            .map(|(s, l, _)| (s.as_str(), *l))
            .collect(),
        sorts: SORTS.to_vec(),
        flash: Flash::take(&cx.session).await,
    })
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn live(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    let (run, live) = run_and_live(&cx, id).await?;
    page(&RunLive {
        run: RunView::of(&run),
        live,
        can_act: cx.op.can(Capability::RUNBOOKS_RUN),
    })
}
