//! `/system/runs`: the runs (filtered by runbook, status, outcome), View
//! run with its live part, and cancel / retry-failed with a confirmation.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, Operator, Pager, Query, RunView, RunsQuery, SignedForm, TokenOnly, WebError, WebState,
    opt, page, page_number, run_id,
};
use crate::domain::Capability;

const PAGE_SIZE: i64 = 25;

#[derive(Template)]
#[template(path = "system/runs.html")]
struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunView>,
    runbooks: Vec<String>,
    runbook: String,
    status: String,
    outcome: String,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "system/run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunView,
    can_act: bool,
}

#[derive(Template)]
#[template(path = "system/run_live.html")]
struct RunLive {
    run: RunView,
    can_act: bool,
}

#[derive(Template)]
#[template(path = "system/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    run: RunView,
    action: &'static str,
    heading: &'static str,
    explanation: String,
    button: &'static str,
    with_reason: bool,
    error: String,
}

pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<RunsQuery>,
) -> Result<Response, WebError> {
    let p = page_number(&q.page);
    let filter = q.filter(PAGE_SIZE, true)?;
    let mut runs = state.app.runbooks().runs(&op.actor(), &filter).await?;
    let more = runs.len() as i64 > PAGE_SIZE;
    runs.truncate(PAGE_SIZE as usize);
    let text = |v: &Option<String>| opt(v).unwrap_or("").to_owned();
    let base = [
        ("runbook", text(&q.runbook)),
        ("status", text(&q.status)),
        ("outcome", text(&q.outcome)),
    ];
    page(&RunsPage {
        chrome: Chrome::operator(&state, &op, &session, "runs").await?,
        runs: RunView::all(&runs),
        runbooks: state
            .app
            .runbooks()
            .keys()
            .iter()
            .map(|k| k.to_string())
            .collect(),
        runbook: base[0].1.clone(),
        status: base[1].1.clone(),
        outcome: base[2].1.clone(),
        pager: Pager::new("/system/runs", &base, p, more),
    })
}

pub async fn view_run(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    page(&RunPage {
        chrome: Chrome::operator(&state, &op, &session, "runs").await?,
        run: RunView::of(&run),
        can_act: op.can(Capability::RUNBOOKS_RUN),
    })
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn run_live(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    page(&RunLive {
        run: RunView::of(&run),
        can_act: op.can(Capability::RUNBOOKS_RUN),
    })
}

/// The confirmation step of cancel and retry-failed (works without JavaScript).
async fn confirm_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: &str,
    action: &'static str,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(id)?).await?;
    let run = RunView::of(&run);
    let chrome = Chrome::operator(state, op, session, "runs").await?;
    let confirm = if action == "cancel" {
        ConfirmPage {
            chrome,
            explanation: format!(
                "Tenants not yet processed are dropped; the {} already processed keep their changes. The run ends as cancelled.",
                run.processed
            ),
            run,
            action,
            heading: "Cancel this run?",
            button: "Cancel run",
            with_reason: false,
            error: String::new(),
        }
    } else {
        ConfirmPage {
            chrome,
            explanation: format!(
                "A new run starts over just the {} failed tenant(s) of this run.",
                run.failed
            ),
            run,
            action,
            heading: "Retry the failed tenants?",
            button: "Start retry run",
            with_reason: true,
            error: String::new(),
        }
    };
    page(&confirm)
}

pub async fn cancel_confirm(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm_page(&state, &op, &session, &id, "cancel").await
}

pub async fn retry_confirm(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm_page(&state, &op, &session, &id, "retry-failed").await
}

pub async fn cancel(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let run = state
        .app
        .runbooks()
        .cancel(&op.actor(), run_id(&id)?)
        .await?;
    Ok(Redirect::to(&format!("/system/runs/{}", run.id)).into_response())
}

#[derive(Deserialize)]
pub struct RetryForm {
    reason: Option<String>,
}

pub async fn retry_failed(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    SignedForm(form): SignedForm<RetryForm>,
) -> Result<Response, WebError> {
    let ensured = state
        .app
        .runbooks()
        .retry_failed(&op.actor(), run_id(&id)?, opt(&form.reason))
        .await?;
    Ok(Redirect::to(&format!("/system/runs/{}", ensured.run.id)).into_response())
}
