//! Cancel and retry-failed, each with a confirmation page that works
//! without JavaScript: the cancel page's counts stay live while the run
//! goes, and the retry page lists what it will retry, grouped by reason
//! code, warning when every failure is the same data error.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::super::kit::format::{count, plural};
use super::super::kit::{
    Chrome, Operator, RunView, SignedForm, TokenOnly, WebError, WebState, opt, page, run_id,
};
use super::views;
use crate::console::FailureGroup;
use crate::runs::Run;

/// The counts a confirmation shows, polled while the run is active.
#[derive(Template)]
#[template(path = "system/_confirm_counts.html")]
struct Counts {
    live: LiveCounts,
}

#[derive(Debug, Clone)]
struct LiveCounts {
    id: i64,
    active: bool,
    counts: String,
}

impl LiveCounts {
    fn of(run: &Run) -> LiveCounts {
        let c = &run.summary_counts;
        let mut text = format!(
            "{}: {} of {} processed",
            views::state_label(run),
            count(c.processed),
            plural(c.total, "tenant")
        );
        if c.failed > 0 {
            text += &format!(", {} failed", count(c.failed));
        }
        if run.is_active() {
            text += &format!(
                "; {} not yet processed",
                plural((c.total - c.processed).max(0), "tenant")
            );
        }
        LiveCounts {
            id: run.id,
            active: run.is_active(),
            counts: text,
        }
    }
}

#[derive(Template)]
#[template(path = "system/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    run: RunView,
    title: String,
    live: LiveCounts,
    action: &'static str,
    heading: &'static str,
    explanation: String,
    button: String,
    with_reason: bool,
    groups: Vec<FailureGroup>,
    /// Set when every failure shares one data-error code.
    same_data_error: String,
    error: String,
}

async fn confirm_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: &str,
    action: &'static str,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(id)?).await?;
    let chrome = Chrome::operator(state, op, session, "runs").await?;
    let title = state
        .app
        .runbooks()
        .title_of(&run.run_type)
        .unwrap_or(&run.run_type)
        .to_owned();
    let failed = run.summary_counts.failed;
    let mut confirm = ConfirmPage {
        chrome,
        title,
        live: LiveCounts::of(&run),
        run: RunView::of(&run),
        action,
        heading: "Cancel this run?",
        explanation: "Tenants not yet processed are dropped; those already processed keep their changes. The run ends as cancelled.".into(),
        button: "Cancel run".into(),
        with_reason: false,
        groups: vec![],
        same_data_error: String::new(),
        error: String::new(),
    };
    if action != "cancel" {
        let groups = state
            .app
            .console()
            .failure_groups(&op.identity, run.id)
            .await?;
        if let [only] = groups.as_slice()
            && only.data_error
        {
            confirm.same_data_error = only.reason_code.clone();
        }
        confirm.heading = "Retry the failed tenants?";
        confirm.explanation = format!(
            "A new run starts over just the {} that failed in this run.",
            plural(failed, "tenant")
        );
        confirm.button = format!("Retry {}", plural(failed, "tenant"));
        confirm.with_reason = true;
        confirm.groups = groups;
    }
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

/// A confirmation's counts alone (polled while the run is active).
pub async fn run_counts(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    page(&Counts {
        live: LiveCounts::of(&run),
    })
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
