//! `/system/runs`: the runs (filtered by runbook, status, outcome, initiator,
//! tenant, dates and reason; counted and paged), View run with its live
//! part, and the cancel / retry confirmations (`actions`).

mod actions;
mod tenants;
mod view;
pub mod views;

pub use actions::{cancel, cancel_confirm, retry_confirm, retry_failed, run_counts};
pub use tenants::run_tenants_fragment;
pub use view::{run_live, view_run};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::format::plural;
use super::kit::{Chrome, Operator, Query, WebError, WebState, opt, page_number, page_with};
use crate::console::RunListFilter;
use crate::runs::Run;
use views::{OUTCOME_LABELS, RunLine, STATUS_LABELS, field_error};

const PAGE_SIZE: i64 = 25;

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
