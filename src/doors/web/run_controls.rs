//! A run's operator controls on the web: its per-tenant results (JSON page
//! and CSV export), pause, resume, new limits and retry by tenant state, as
//! JSON API calls and as console form posts that redirect back to the run
//! with a one-time message ([`take_flash`]).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::api::{body, ensured};
use super::kit::{Operator, Query, SignedForm, TokenOnly, WebError, WebState, opt, run_id};
use super::openapi::errors::{ReadErrors, WriteErrors};
use crate::domain::run_tenants;
use crate::domain::run_tenants::TenantPage;
use crate::runs::{Run, TenantQuery, TenantState};

const FLASH_KEY: &str = "run_flash";

/// A one-time message shown on the run page after a control.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunFlash {
    pub error: bool,
    pub message: String,
}

/// The message a control left for the run page, once.
pub async fn take_flash(session: &Session) -> Option<RunFlash> {
    // Removing marks the session changed and saves it: only when there is
    // something to take, so a plain page view writes nothing.
    let flash = session.get::<RunFlash>(FLASH_KEY).await.ok().flatten()?;
    let _ = session.remove::<RunFlash>(FLASH_KEY).await;
    Some(flash)
}

async fn back_to(session: &Session, run_id: i64, message: String) -> Result<Response, WebError> {
    let flash = RunFlash {
        error: false,
        message,
    };
    session.insert(FLASH_KEY, flash).await?;
    Ok(Redirect::to(&format!("/system/runs/{run_id}")).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantsQuery {
    /// Only tenants in this state.
    state: Option<String>,
    /// Part of the tenant's external id.
    q: Option<String>,
    /// A column, `-` first for descending (`-duration`).
    sort: Option<String>,
    /// Page number from 1.
    page: Option<String>,
    /// Tenants a page (at most 500).
    per_page: Option<String>,
}

impl TenantsQuery {
    fn parse(&self) -> Result<TenantQuery, WebError> {
        Ok(TenantQuery::parse(
            opt(&self.state),
            opt(&self.q),
            opt(&self.sort),
            opt(&self.page),
            opt(&self.per_page),
        )?)
    }
}

/// `GET /system/api/runs/{id}/tenants`: one page of the run's tenants and
/// its box score.
#[utoipa::path(
    get,
    path = "/system/api/runs/{id}/tenants",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id"), TenantsQuery),
    responses((status = 200, description = "A page of the run's tenants and its box score", body = TenantPage), ReadErrors)
)]
pub async fn api_tenants(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    Query(q): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    let query = q.parse()?;
    let page = state
        .app
        .runbooks()
        .run_tenants(&op.actor(), run_id(&id)?, &query)
        .await?;
    Ok(Json(page).into_response())
}

/// `GET /system/runs/{id}/tenants.csv`: every tenant matching the filter.
pub async fn tenants_csv(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    Query(q): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    let query = q.parse()?;
    let id = run_id(&id)?;
    let rows = state
        .app
        .runbooks()
        .run_tenants_all(&op.actor(), id, &query)
        .await?;
    let csv = run_tenants::tenants_csv(&rows)?;
    let disposition = format!("attachment; filename=\"run-{id}-tenants.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// A run's new cap and error budget: a count (`10`) or a percentage (`5%`);
/// blank for none.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct LimitsBody {
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    min_finished: Option<String>,
}

/// What a retry by state takes.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = RetryByStateBody)]
pub struct RetryBody {
    /// A list (`["failed"]`) in JSON; a comma list in a form.
    states: Option<StatesField>,
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum StatesField {
    List(Vec<String>),
    Text(String),
}

impl RetryBody {
    fn states(&self) -> Result<Vec<TenantState>, WebError> {
        let joined = match &self.states {
            None => None,
            Some(StatesField::Text(t)) => Some(t.clone()),
            Some(StatesField::List(l)) => Some(l.join(",")),
        };
        Ok(TenantState::parse_retry_states(joined.as_deref())?)
    }
}

async fn pause_or_resume(
    state: &WebState,
    op: &Operator,
    id: &str,
    pause: bool,
) -> Result<Run, WebError> {
    let service = state.app.runbooks();
    let id = run_id(id)?;
    Ok(if pause {
        service.pause(&op.actor(), id).await?
    } else {
        service.resume(&op.actor(), id).await?
    })
}

async fn limits(
    state: &WebState,
    op: &Operator,
    id: &str,
    b: &LimitsBody,
) -> Result<Run, WebError> {
    Ok(state
        .app
        .runbooks()
        .set_limits(
            &op.actor(),
            run_id(id)?,
            b.max_concurrency.as_deref(),
            b.max_errors.as_deref(),
            b.min_finished.as_deref(),
        )
        .await?)
}

/// Pauses a running run: no new tenant starts, tenants in flight finish.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/pause",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = Object, content_type = "application/json", description = "`{}`"),
    responses((status = 200, description = "The paused run", body = Run), WriteErrors)
)]
pub async fn api_pause(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, WebError> {
    body(payload)?;
    Ok(Json(pause_or_resume(&state, &op, &id, true).await?).into_response())
}

/// Resumes a paused run.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/resume",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = Object, content_type = "application/json", description = "`{}`"),
    responses((status = 200, description = "The resumed run", body = Run), WriteErrors)
)]
pub async fn api_resume(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, WebError> {
    body(payload)?;
    Ok(Json(pause_or_resume(&state, &op, &id, false).await?).into_response())
}

/// Sets a running or paused run's concurrency cap and error budget.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/limits",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = LimitsBody, content_type = "application/json"),
    responses((status = 200, description = "The run with its new limits", body = Run), WriteErrors)
)]
pub async fn api_limits(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<LimitsBody>, JsonRejection>,
) -> Result<Response, WebError> {
    let b = body(payload)?;
    Ok(Json(limits(&state, &op, &id, &b).await?).into_response())
}

/// Starts a run over the tenants of a completed run in the chosen states
/// (default: failed, not started and cancelled), or answers the active one.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/retry",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = RetryBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new run over the chosen tenants", body = Run),
        (status = 200, description = "The active retry", body = Run),
        WriteErrors
    )
)]
pub async fn api_retry(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<RetryBody>, JsonRejection>,
) -> Result<Response, WebError> {
    let b = body(payload)?;
    let states = b.states()?;
    let e = state
        .app
        .runbooks()
        .retry(&op.actor(), run_id(&id)?, &states, opt(&b.reason))
        .await?;
    Ok(ensured(e))
}

pub async fn pause(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let run = pause_or_resume(&state, &op, &id, true).await?;
    back_to(
        &session,
        run.id,
        format!("Run {} paused; tenants in flight finish.", run.id),
    )
    .await
}

pub async fn resume(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let run = pause_or_resume(&state, &op, &id, false).await?;
    back_to(&session, run.id, format!("Run {} resumed.", run.id)).await
}

pub async fn set_limits(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(form): SignedForm<LimitsBody>,
) -> Result<Response, WebError> {
    let run = limits(&state, &op, &id, &form).await?;
    let l = &run.limits;
    let message = format!(
        "Limits of run {} set: max concurrency {}, max errors {}.",
        run.id,
        l.max_concurrency.as_deref().unwrap_or("none"),
        l.max_errors.as_deref().unwrap_or("none")
    );
    back_to(&session, run.id, message).await
}

#[derive(Deserialize, Default)]
pub struct RetryForm {
    states: Option<String>,
    reason: Option<String>,
}

pub async fn retry(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
    SignedForm(form): SignedForm<RetryForm>,
) -> Result<Response, WebError> {
    let states = TenantState::parse_retry_states(opt(&form.states))?;
    let original = run_id(&id)?;
    let e = state
        .app
        .runbooks()
        .retry(&op.actor(), original, &states, opt(&form.reason))
        .await?;
    let message = format!("Run {} retries run {original}.", e.run.id);
    back_to(&session, e.run.id, message).await
}
