//! `/admin`: the customer plane. The findings and the runs of the user's
//! workspace, read-only; the console service keeps them to that workspace.
//! No maintenance action exists here (FR-001): no button, no route. Its
//! sign-in lives with the operators' in `signin`.

use askama::Template;
use axum::extract::State;
use axum::response::{Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::views::filters;
use super::kit::{Chrome, PageQuery, Pager, Query, RunId, Text, WebError, WebState, page};
use super::runs::present::RunView;
use crate::accounts::CustomerIdentity;
use crate::console::{FindingFilter, FindingItem, Page};

const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/findings.html")]
struct FindingsPage {
    chrome: Chrome,
    findings: Vec<FindingItem>,
    status: String,
    severity: String,
    tenant: String,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/runs.html")]
struct AdminRunsPage {
    chrome: Chrome,
    runs: Vec<RunView>,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/run.html")]
struct AdminRunPage {
    chrome: Chrome,
    run: RunView,
}

pub async fn home() -> Redirect {
    Redirect::to("/admin/findings")
}

#[derive(Deserialize)]
pub struct FindingsQuery {
    status: Text,
    severity: Text,
    tenant: Text,
    page: Text,
}

pub async fn findings(
    State(state): State<WebState>,
    c: CustomerIdentity,
    session: Session,
    Query(q): Query<FindingsQuery>,
) -> Result<Response, WebError> {
    let filter = FindingFilter::parse(q.status.get(), q.severity.get(), q.tenant.get())?;
    let asked = Page::new(q.page.page()?, PAGE_SIZE);
    let console = state.app.customer();
    let found = console.findings(&c, &filter, asked).await?;
    page(&FindingsPage {
        chrome: Chrome::customer(&state, &c, &session, "findings").await?,
        findings: found.items,
        pager: Pager::ahead("/admin/findings", &filter, found.page, found.has_more),
        status: filter.status.unwrap_or_default(),
        severity: filter.severity.unwrap_or_default(),
        tenant: filter.tenant.unwrap_or_default(),
    })
}

pub async fn runs(
    State(state): State<WebState>,
    c: CustomerIdentity,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let asked = Page::new(q.page.page()?, PAGE_SIZE);
    let console = state.app.customer();
    let runs = console.workspace_runs(&c, asked).await?;
    page(&AdminRunsPage {
        chrome: Chrome::customer(&state, &c, &session, "runs").await?,
        runs: RunView::all(&state, runs.items),
        pager: Pager::ahead("/admin/runs", &(), runs.page, runs.has_more),
    })
}

pub async fn view_run(
    State(state): State<WebState>,
    c: CustomerIdentity,
    session: Session,
    RunId(id): RunId,
) -> Result<Response, WebError> {
    let run = state.app.customer().workspace_run(&c, id).await?;
    page(&AdminRunPage {
        chrome: Chrome::customer(&state, &c, &session, "runs").await?,
        run: RunView::of(&state, run),
    })
}
