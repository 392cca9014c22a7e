//! Retries. The retry page: the operator picks the states to retry (failed, not
//! started, cancelled; all three by default) and sees what that retries,
//! grouped by state and reason code, with a warning when every failed
//! tenant shares one data-error code that a retry would meet again. Picking
//! is a GET form, so the list always matches what the confirmation posts.
//! Retry by state and retry-failed, each one handler for the console's
//! form and the API.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::kit::format::plural;
use super::super::kit::{Chrome, Ctx, Format, Input, Query, RunId, WebError, page_with};
use super::super::openapi::errors::WriteErrors;
use super::super::openapi::inputs;
use super::path::RunPath;
use super::present::RunView;
use super::tenants::filters;
use super::tenants::label_of;
use super::view_run::LimitsForm;
use crate::domain::run_controls::LimitsText;
use crate::error::Error;
use crate::runs::{RetryPreview, Run, TenantQuery, TenantState};

#[derive(Deserialize, Default)]
pub struct RetryAsk {
    /// Set by the form, so that no box ticked means none, not the default.
    chosen: Option<String>,
    failed: Option<String>,
    not_started: Option<String>,
    cancelled: Option<String>,
}

/// One state the operator may pick, with how many tenants are in it.
#[derive(Debug, Clone)]
struct StateChoice {
    value: &'static str,
    label: &'static str,
    tenants: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "system/retry.html")]
struct RetryPage {
    chrome: Chrome,
    run: RunView,
    choices: Vec<StateChoice>,
    /// `failed,not_started`: what the confirmation posts.
    states: String,
    preview: RetryPreview,
    /// "26 tenants" when anything is picked.
    picked: String,
    nothing: bool,
    error: String,
    /// The new run's limits: the run's own, or as typed with the error
    /// beside its field.
    limits_form: LimitsForm,
    reason: String,
}

pub async fn retry_page(
    cx: Ctx,
    RunId(id): RunId,
    Query(ask): Query<RetryAsk>,
) -> Result<Response, WebError> {
    retry_view(&cx, id, ask, None, "").await
}

/// The retry page; with `limits` (a refused value) it answers 422.
async fn retry_view(
    cx: &Ctx,
    id: i64,
    ask: RetryAsk,
    limits: Option<LimitsForm>,
    reason: &str,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.runs(), cx.actor());
    let run = service.run(&actor, id).await?;
    let score = service
        .run_tenants(&actor, run.id, &TenantQuery::default())
        .await?
        .box_score;
    let ticked = |v: &Option<String>| v.is_some();
    let picked: Vec<TenantState> = TenantState::RETRYABLE
        .into_iter()
        .filter(|s| {
            ask.chosen.is_none()
                || match s {
                    TenantState::Failed => ticked(&ask.failed),
                    TenantState::NotStarted => ticked(&ask.not_started),
                    _ => ticked(&ask.cancelled),
                }
        })
        .collect();
    let label = |s: TenantState| label_of(s).0;
    let choices = TenantState::RETRYABLE
        .into_iter()
        .map(|s| StateChoice {
            value: s.as_str(),
            label: label(s),
            tenants: plural(score.get(s), "tenant"),
            checked: picked.contains(&s),
        })
        .collect();
    let preview = service.retry_preview(&actor, run.id, &picked).await?;
    let error = if picked.is_empty() {
        "Choose at least one state to retry.".to_owned()
    } else if run.is_active() {
        format!(
            "Run #{} is still going; retry it when it completes.",
            run.id
        )
    } else {
        String::new()
    };
    let run = RunView::of(&cx.state, run);
    let status = match limits {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    page_with(
        status,
        &RetryPage {
            limits_form: limits.unwrap_or_else(|| LimitsForm::of(&run)),
            reason: reason.to_owned(),
            chrome: cx.chrome("runs").await?,
            choices,
            states: picked
                .iter()
                .map(TenantState::as_str)
                .collect::<Vec<_>>()
                .join(","),
            picked: plural(preview.tenants, "tenant"),
            nothing: preview.tenants == 0,
            preview,
            error,
            run,
        },
    )
}

/// What a retry by state takes (its schema: [`inputs::retry_body`]).
#[derive(Deserialize, Default)]
pub struct RetryBody {
    /// A list (`["failed"]`) in JSON; a comma list in a form.
    states: Option<StatesField>,
    reason: Option<String>,
    /// The new run's cap: left out, the run's; empty, none.
    max_concurrency: Option<String>,
    /// The new run's error budget: left out, the run's; empty, none.
    max_errors: Option<String>,
    /// Tenants finished before a percentage budget applies: left out, the run's.
    min_finished: Option<String>,
}

inputs::schema_of!(RetryBody = inputs::retry_body, named "RetryByStateBody");

#[derive(Deserialize)]
#[serde(untagged)]
pub enum StatesField {
    List(Vec<String>),
    Text(String),
}

/// The reason a retry was given: a form's empty box is none (the default
/// reason); anything else — on the API even `""` — goes to the service,
/// which refuses a blank one as a start does.
fn given<'a>(cx: &Ctx, reason: &'a Option<String>) -> Option<&'a str> {
    let empty_box = cx.format == Format::Html && reason.as_deref() == Some("");
    reason.as_deref().filter(|_| !empty_box)
}

/// Starts a run over the tenants of a completed run in the chosen states
/// (default: failed, not started and cancelled), or answers the active one.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/retry",
    tag = "runs",
    params(RunPath),
    request_body(content = RetryBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new run over the chosen tenants", body = Run),
        (status = 200, description = "The active retry", body = Run),
        WriteErrors
    )
)]
pub async fn retry(
    cx: Ctx,
    RunId(id): RunId,
    Input(b): Input<RetryBody>,
) -> Result<Response, WebError> {
    let states = match &b.states {
        None => None,
        Some(StatesField::Text(t)) => Some(t.clone()),
        Some(StatesField::List(l)) => Some(l.join(",")),
    };
    let states = TenantState::parse_retry_states(states.as_deref())?;
    let retry = cx.state.app.runs();
    // Left out keeps the run's limit; an empty field (the form's cleared
    // box) removes it.
    let limits = LimitsText {
        max_concurrency: b.max_concurrency.as_deref(),
        max_errors: b.max_errors.as_deref(),
        min_finished: b.min_finished.as_deref(),
    };
    let e = match retry
        .retry_with(&cx.actor(), id, &states, given(&cx, &b.reason), limits)
        .await
    {
        Ok(e) => e,
        // On the page: the retry page again, the states and what was typed
        // kept, the error beside its field.
        Err(Error::BadInput(message)) if cx.format == Format::Html => {
            let ticked = |s: TenantState| states.contains(&s).then(|| "1".to_owned());
            let ask = RetryAsk {
                chosen: Some("1".into()),
                failed: ticked(TenantState::Failed),
                not_started: ticked(TenantState::NotStarted),
                cancelled: ticked(TenantState::Cancelled),
            };
            let typed = [b.max_concurrency, b.max_errors, b.min_finished];
            let form = LimitsForm::refused(typed, &message);
            let reason = b.reason.as_deref().unwrap_or_default();
            return retry_view(&cx, id, ask, Some(form), reason).await;
        }
        Err(e) => return Err(e.into()),
    };
    let message = format!("Run {} retries run {id}.", e.run.id);
    cx.ensured(&e, Some(message)).await
}

/// What retries a run's failed tenants (its schema:
/// [`inputs::retry_failed_body`]).
#[derive(Deserialize, Default)]
pub struct RetryFailedBody {
    /// Why (required where the runbook asks for one).
    reason: Option<String>,
}

inputs::schema_of!(RetryFailedBody = inputs::retry_failed_body);

/// Starts a run over the failed tenants of a completed run, or answers the
/// active retry.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/retry-failed",
    tag = "runs",
    params(RunPath),
    request_body(content = RetryFailedBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new run over the failed tenants", body = Run),
        (status = 200, description = "The active retry", body = Run),
        WriteErrors
    )
)]
pub async fn retry_failed(
    cx: Ctx,
    RunId(id): RunId,
    Input(b): Input<RetryFailedBody>,
) -> Result<Response, WebError> {
    let retry = cx.state.app.runs();
    let reason = given(&cx, &b.reason);
    let e = retry.retry_failed(&cx.actor(), id, reason).await?;
    cx.ensured(&e, None).await
}
