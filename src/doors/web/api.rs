//! `/system/api`: the runbook service in JSON, behind the same sessions and
//! capabilities as the pages. Runs have the shape of Appendix A. State
//! changes need `Content-Type: application/json` (a cross-site form cannot
//! send it) and pass the Origin check. The route group answers errors in
//! JSON, so handlers just return them. Each handler carries its OpenAPI
//! description ([`super::openapi`]).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::kit::{Operator, Query, RunsQuery, WebError, WebState, opt, run_id, scope_request};
use super::openapi::errors::{ReadErrors, WriteErrors};
use crate::runbooks::{Preflight, RunbookInfo};
use crate::runs::{Ensured, Run};

type ApiResult = Result<Response, WebError>;

/// Runs answered by `GET /system/api/runs`.
const RUNS_LIMIT: i64 = 50;

pub(super) fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, WebError> {
    payload.map(|Json(v)| v).map_err(|e| {
        let status = match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        WebError::new(status, e.body_text())
    })
}

/// A path segment, or the API's JSON 400 (a segment that is not UTF-8, say).
fn segment(path: Result<Path<String>, PathRejection>) -> Result<String, WebError> {
    path.map(|Path(v)| v)
        .map_err(|e| WebError::new(StatusCode::BAD_REQUEST, e.body_text()))
}

/// 201 with a new run, or 200 with the active run it returned.
pub(super) fn ensured(e: Ensured) -> Response {
    let status = if e.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(e.run)).into_response()
}

/// The runbooks this service offers, and whether the operator may start each.
#[utoipa::path(
    get,
    path = "/system/api/runbooks",
    tag = "runbooks",
    responses((status = 200, description = "Every runbook", body = [RunbookInfo]), ReadErrors)
)]
pub async fn runbooks(State(state): State<WebState>, op: Operator) -> ApiResult {
    let list = state.app.runbooks().list(&op.actor())?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    /// `all` (every tenant) or `tenant` (the one named by `tenant`).
    scope: Option<String>,
    /// The tenant's external id, with `scope=tenant`.
    tenant: Option<String>,
}

/// What a run of the runbook over the scope would do: tenants, items
/// pending per tenant, and an active run of the same scope if there is one.
#[utoipa::path(
    get,
    path = "/system/api/runbooks/{key}/preflight",
    tag = "runbooks",
    params(("key" = String, Path, description = "The runbook's key"), ScopeQuery),
    responses((status = 200, description = "The preflight", body = Preflight), ReadErrors)
)]
pub async fn preflight(
    State(state): State<WebState>,
    op: Operator,
    key: Result<Path<String>, PathRejection>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult {
    let key = segment(key)?;
    let service = state.app.runbooks();
    service.runbook(&key)?;
    let scope = scope_request(opt(&q.scope), opt(&q.tenant))?;
    let p = service.preflight(&op.actor(), &key, &scope).await?;
    Ok(Json(p).into_response())
}

/// What starts a run.
#[derive(Deserialize, ToSchema)]
pub struct StartBody {
    /// `all` (every tenant) or `tenant` (the one named by `tenant`).
    scope: Option<String>,
    /// The tenant's external id, with `scope=tenant`.
    tenant: Option<String>,
    /// Why the run is started (required where the runbook asks for one).
    reason: Option<String>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    min_finished: Option<String>,
}

/// Starts a run of the runbook over the scope, or answers the active run of
/// the same scope.
#[utoipa::path(
    post,
    path = "/system/api/runbooks/{key}/start",
    tag = "runbooks",
    params(("key" = String, Path, description = "The runbook's key")),
    request_body(content = StartBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new run", body = Run),
        (status = 200, description = "The active run of the same runbook and scope", body = Run),
        WriteErrors
    )
)]
pub async fn start(
    State(state): State<WebState>,
    op: Operator,
    key: Result<Path<String>, PathRejection>,
    payload: Result<Json<StartBody>, JsonRejection>,
) -> ApiResult {
    let key = segment(key)?;
    let b = body(payload)?;
    let service = state.app.runbooks();
    service.runbook(&key)?;
    let scope = scope_request(opt(&b.scope), opt(&b.tenant))?;
    let reason = Some(b.reason.as_deref().unwrap_or(""));
    let limits = crate::runs::RunLimits::parse(
        opt(&b.max_concurrency),
        opt(&b.max_errors),
        opt(&b.min_finished),
    )?;
    Ok(ensured(
        service
            .start_with_limits(&op.actor(), &key, &scope, reason, limits)
            .await?,
    ))
}

/// Query of `GET /system/api/runs`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct RunsParams {
    /// Only runs of this runbook.
    runbook: Option<String>,
    /// `queued`, `running` or `completed`.
    status: Option<String>,
    /// `pending`, `succeeded`, `partially_succeeded`, `failed` or `cancelled`.
    outcome: Option<String>,
    /// Page number from 1, 50 runs a page, newest first.
    page: Option<String>,
}

/// Runs, newest first, filtered and paginated.
#[utoipa::path(
    get,
    path = "/system/api/runs",
    tag = "runs",
    params(RunsParams),
    responses((status = 200, description = "A page of runs", body = [Run]), ReadErrors)
)]
pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    Query(q): Query<RunsQuery>,
) -> ApiResult {
    let filter = q.filter(RUNS_LIMIT, false)?;
    let runs = state.app.runbooks().runs(&op.actor(), &filter).await?;
    Ok(Json(runs).into_response())
}

/// One run (Appendix A).
#[utoipa::path(
    get,
    path = "/system/api/runs/{id}",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, description = "The run", body = Run), ReadErrors)
)]
pub async fn run(
    State(state): State<WebState>,
    op: Operator,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = segment(id)?;
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    Ok(Json(run).into_response())
}

/// Cancels an active run. Takes a JSON body (`{}`), like every state change
/// of the API.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/cancel",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = Object, content_type = "application/json", description = "`{}`"),
    responses((status = 200, description = "The cancelled run", body = Run), WriteErrors)
)]
pub async fn cancel(
    State(state): State<WebState>,
    op: Operator,
    id: Result<Path<String>, PathRejection>,
    payload: Result<Json<serde_json::Value>, JsonRejection>,
) -> ApiResult {
    let id = segment(id)?;
    body(payload)?;
    let run = state
        .app
        .runbooks()
        .cancel(&op.actor(), run_id(&id)?)
        .await?;
    Ok(Json(run).into_response())
}

/// What retries a run's failed tenants.
#[derive(Deserialize, Default, ToSchema)]
pub struct RetryBody {
    /// Why (required where the runbook asks for one).
    reason: Option<String>,
}

/// Starts a run over the failed tenants of a completed run, or answers the
/// active retry.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/retry-failed",
    tag = "runs",
    params(("id" = i64, Path, description = "The run's id")),
    request_body(content = RetryBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new run over the failed tenants", body = Run),
        (status = 200, description = "The active retry", body = Run),
        WriteErrors
    )
)]
pub async fn retry_failed(
    State(state): State<WebState>,
    op: Operator,
    id: Result<Path<String>, PathRejection>,
    payload: Result<Json<RetryBody>, JsonRejection>,
) -> ApiResult {
    let id = segment(id)?;
    let b = body(payload)?;
    let ensured_run = state
        .app
        .runbooks()
        .retry_failed(&op.actor(), run_id(&id)?, opt(&b.reason))
        .await?;
    Ok(ensured(ensured_run))
}
