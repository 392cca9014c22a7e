//! `/admin`: the customer plane. The findings and the runs of the user's
//! workspace, read-only; the console service keeps them to that workspace.
//! No maintenance action exists here (FR-001): no button, no route. Its
//! sign-in lives with the operators' in `signin`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, Customer, Pager, Query, RunView, TimeTag, WebError, WebState, opt, page, page_number,
    run_id,
};
use crate::console::{FindingFilter, FindingItem, Page};

const PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone)]
struct FindingView {
    id: i64,
    tenant: String,
    title: String,
    severity: String,
    status: String,
    sla_due: TimeTag,
    overdue: bool,
    last_seen: TimeTag,
}

impl FindingView {
    fn of(f: &FindingItem) -> FindingView {
        FindingView {
            id: f.id,
            tenant: f.tenant.clone(),
            title: f.title.clone(),
            severity: f.severity.clone(),
            status: f.status.clone(),
            sla_due: TimeTag::date(&f.sla_due_at),
            overdue: f.overdue,
            last_seen: TimeTag::date(&f.last_seen_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/findings.html")]
struct FindingsPage {
    chrome: Chrome,
    findings: Vec<FindingView>,
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
    status: Option<String>,
    severity: Option<String>,
    tenant: Option<String>,
    page: Option<String>,
}

pub async fn findings(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Query(q): Query<FindingsQuery>,
) -> Result<Response, WebError> {
    let filter = FindingFilter::parse(opt(&q.status), opt(&q.severity), opt(&q.tenant))?;
    let found = state
        .app
        .console()
        .findings(
            &c.identity,
            &filter,
            Page::new(page_number(&q.page), PAGE_SIZE),
        )
        .await?;
    let base = [
        ("status", filter.status.clone().unwrap_or_default()),
        ("severity", filter.severity.clone().unwrap_or_default()),
        ("tenant", filter.tenant.clone().unwrap_or_default()),
    ];
    page(&FindingsPage {
        chrome: Chrome::customer(&state, &c, &session, "findings").await?,
        findings: found.items.iter().map(FindingView::of).collect(),
        status: base[0].1.clone(),
        severity: base[1].1.clone(),
        tenant: base[2].1.clone(),
        pager: Pager::new("/admin/findings", &base, found.page, found.has_more),
    })
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

pub async fn runs(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let runs = state
        .app
        .console()
        .workspace_runs(&c.identity, Page::new(page_number(&q.page), PAGE_SIZE))
        .await?;
    page(&AdminRunsPage {
        chrome: Chrome::customer(&state, &c, &session, "runs").await?,
        runs: RunView::all(&runs.items),
        pager: Pager::new("/admin/runs", &[], runs.page, runs.has_more),
    })
}

pub async fn view_run(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state
        .app
        .console()
        .workspace_run(&c.identity, run_id(&id)?)
        .await?;
    page(&AdminRunPage {
        chrome: Chrome::customer(&state, &c, &session, "runs").await?,
        run: RunView::of(&run),
    })
}
