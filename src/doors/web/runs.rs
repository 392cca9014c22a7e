//! `/system/runs`: the runs (filtered by runbook, status, outcome, initiator,
//! tenant, dates and reason; counted and paged), View run with its live
//! part, and the cancel / retry confirmations (`actions`).

mod actions;
pub mod views;

pub use actions::{cancel, cancel_confirm, retry_confirm, retry_failed, run_counts};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::format::{count, plural};
use super::kit::views::FailureView;
use super::kit::{
    Chrome, Operator, Query, RunView, WebError, WebState, opt, page, page_number, page_with, run_id,
};
use crate::console::{FailureGroup, RunListFilter};
use crate::runs::Run;
use views::{OUTCOME_LABELS, RunLine, STATUS_LABELS, field_error};

const PAGE_SIZE: i64 = 25;
/// Failure rows View run lists; the rest are summed up by reason code.
const FAILURE_ROWS: usize = 20;

/// Runs as rows, each with its runbook's title.
pub fn lines(state: &WebState, runs: &[Run]) -> Vec<RunLine> {
    let now = state.app.clock.now();
    let service = state.app.runbooks();
    runs.iter()
        .map(|r| RunLine::of(r, service.title_of(&r.run_type), now))
        .collect()
}

/// The runs page's filters, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    runbook: Option<String>,
    status: Option<String>,
    outcome: Option<String>,
    initiator: Option<String>,
    tenant: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reason: Option<String>,
    page: Option<String>,
}

impl ListQuery {
    fn text(v: &Option<String>) -> String {
        opt(v).unwrap_or("").to_owned()
    }

    fn filter(&self) -> RunListFilter {
        let t = |v: &Option<String>| opt(v).map(str::to_owned);
        RunListFilter {
            runbook: t(&self.runbook),
            status: t(&self.status),
            outcome: t(&self.outcome),
            initiator: t(&self.initiator),
            tenant: t(&self.tenant),
            from: t(&self.from),
            to: t(&self.to),
            reason: t(&self.reason),
        }
    }

    /// The filters as query pairs (for the pager's links).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("runbook", &self.runbook),
            ("status", &self.status),
            ("outcome", &self.outcome),
            ("initiator", &self.initiator),
            ("tenant", &self.tenant),
            ("from", &self.from),
            ("to", &self.to),
            ("reason", &self.reason),
        ]
        .into_iter()
        .map(|(k, v)| (k, Self::text(v)))
        .filter(|(_, v)| !v.is_empty())
        .collect()
    }
}

/// Links to pages of a list: `page N of M`, with first, previous, next, last.
#[derive(Debug, Clone)]
pub struct PageLinks {
    pub page: i64,
    pub pages: i64,
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

impl PageLinks {
    /// `param` names the page in the query (`page`).
    pub fn new(
        path: &str,
        pairs: &[(&'static str, String)],
        param: &'static str,
        page: i64,
        pages: i64,
    ) -> PageLinks {
        let url = |p: i64| {
            let mut q = pairs.to_vec();
            if p > 1 {
                q.push((param, p.to_string()));
            }
            match serde_urlencoded::to_string(&q) {
                Ok(s) if !s.is_empty() => format!("{path}?{s}"),
                _ => path.to_owned(),
            }
        };
        PageLinks {
            page,
            pages,
            first: (page > 2).then(|| url(1)),
            prev: (page > 1).then(|| url(page - 1)),
            next: (page < pages).then(|| url(page + 1)),
            last: (page + 1 < pages).then(|| url(pages)),
        }
    }
}

#[derive(Template)]
#[template(path = "system/runs.html")]
struct RunsPage {
    chrome: Chrome,
    lines: Vec<RunLine>,
    runbooks: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    q: ListQueryView,
    total: String,
    links: PageLinks,
    error_field: &'static str,
    error: String,
}

/// The filters as the form shows them again.
struct ListQueryView {
    runbook: String,
    status: String,
    outcome: String,
    initiator: String,
    tenant: String,
    from: String,
    to: String,
    reason: String,
}

const LIST_FIELDS: [&str; 8] = [
    "runbook",
    "status",
    "outcome",
    "initiator",
    "tenant",
    "from",
    "to",
    "reason",
];

pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let asked = page_number(&q.page);
    let listed = state
        .app
        .console()
        .run_list(&op.identity, &q.filter(), asked, PAGE_SIZE)
        .await;
    let (list, status, error_field, error) = match listed {
        Ok(list) => (Some(list), StatusCode::OK, "", String::new()),
        Err(e) if e.is_caller_error() => {
            let (field, message) = field_error(&e.to_string(), &LIST_FIELDS);
            (None, WebError::from(e).status, field, message)
        }
        Err(e) => return Err(e.into()),
    };
    let (lines, total, page, pages) = match &list {
        Some(l) => (lines(&state, &l.runs), l.total, l.page, l.pages),
        None => (vec![], 0, 1, 1),
    };
    let service = state.app.runbooks();
    let runbooks = service
        .keys()
        .iter()
        .map(|k| (k.to_string(), service.title_of(k).unwrap_or(k).to_owned()))
        .collect();
    let t = ListQuery::text;
    page_with(
        status,
        &RunsPage {
            chrome: Chrome::operator(&state, &op, &session, "runs").await?,
            lines,
            runbooks,
            statuses: STATUS_LABELS.to_vec(),
            outcomes: OUTCOME_LABELS.to_vec(),
            q: ListQueryView {
                runbook: t(&q.runbook),
                status: t(&q.status),
                outcome: t(&q.outcome),
                initiator: t(&q.initiator),
                tenant: t(&q.tenant),
                from: t(&q.from),
                to: t(&q.to),
                reason: t(&q.reason),
            },
            total: plural(total, "run"),
            links: PageLinks::new("/system/runs", &q.pairs(), "page", page, pages),
            error_field,
            error,
        },
    )
}

/// View run: the live part and what does not change.
#[derive(Template)]
#[template(path = "system/run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunView,
    live: LiveView,
    can_act: bool,
    title: String,
    who: String,
    retries: Vec<i64>,
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
    pub processed: String,
    pub total: String,
    pub succeeded: String,
    pub failed: String,
    pub items_updated: String,
    pub items_skipped: String,
    pub items_failed: String,
    pub groups: Vec<FailureGroup>,
    /// The first failure rows; the rest are counted in the groups.
    pub failures: Vec<FailureView>,
    pub failures_more: String,
}

impl LiveView {
    fn of(run: &Run, groups: Vec<FailureGroup>, now: chrono::DateTime<chrono::Utc>) -> LiveView {
        let c = &run.summary_counts;
        let label = views::state_label(run);
        let duration = views::run_duration(run, now);
        let mut line = format!(
            "{label} · {} of {} processed",
            count(c.processed),
            plural(c.total, "tenant")
        );
        if c.failed > 0 {
            line += &format!(" · {} failed", count(c.failed));
        }
        if !duration.is_empty() {
            line += &if run.is_active() {
                format!(" · running for {duration}")
            } else {
                format!(" · took {duration}")
            };
        }
        let pct = views::percent(run);
        let failures_total: i64 = groups.iter().map(|g| g.failures).sum();
        let shown = run.failures.len().min(FAILURE_ROWS);
        let more = failures_total - shown as i64;
        LiveView {
            label,
            class: views::state_class(run),
            status_line: line,
            announce: format!("Run #{}: {label}, {}% processed", run.id, pct / 10 * 10),
            duration,
            processed: count(c.processed),
            total: count(c.total),
            succeeded: count(c.succeeded),
            failed: count(c.failed),
            items_updated: count(c.items_updated),
            items_skipped: count(c.items_skipped),
            items_failed: count(c.items_failed),
            groups,
            failures: RunView::of(run).failures.into_iter().take(shown).collect(),
            failures_more: if more > 0 {
                format!("and {} more, counted by reason code above", count(more))
            } else {
                String::new()
            },
        }
    }
}

async fn live_of(state: &WebState, op: &Operator, run: &Run) -> Result<LiveView, WebError> {
    let groups = if run.summary_counts.failed > 0 || !run.failures.is_empty() {
        state
            .app
            .console()
            .failure_groups(&op.identity, run.id)
            .await?
    } else {
        vec![]
    };
    Ok(LiveView::of(run, groups, state.app.clock.now()))
}

pub async fn view_run(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    let live = live_of(&state, &op, &run).await?;
    let retries = state.app.console().retries_of(&op.identity, run.id).await?;
    page(&RunPage {
        chrome: Chrome::operator(&state, &op, &session, "runs").await?,
        title: state
            .app
            .runbooks()
            .title_of(&run.run_type)
            .unwrap_or(&run.run_type)
            .to_owned(),
        who: views::who(&run.context.initiator),
        run: RunView::of(&run),
        live,
        can_act: op.can(crate::domain::Capability::RUNBOOKS_RUN),
        retries,
    })
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn run_live(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    let live = live_of(&state, &op, &run).await?;
    page(&RunLive {
        run: RunView::of(&run),
        live,
        can_act: op.can(crate::domain::Capability::RUNBOOKS_RUN),
    })
}
