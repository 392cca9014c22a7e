//! `/system/api`: the runbook service in JSON, behind the same sessions and
//! capabilities as the pages. Runs have the shape of Appendix A. State
//! changes need `Content-Type: application/json` (a cross-site form cannot
//! send it) and pass the Origin check. The route group answers errors in
//! JSON, so handlers just return them.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::kit::{Operator, Query, RunsQuery, WebError, WebState, opt, run_id, scope_request};
use crate::runs::Ensured;

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

/// 201 with a new run, or 200 with the active run it returned.
pub(super) fn ensured(e: Ensured) -> Response {
    let status = if e.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(e.run)).into_response()
}

pub async fn runbooks(State(state): State<WebState>, op: Operator) -> ApiResult {
    let list = state.app.runbooks().list(&op.actor())?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize)]
pub struct ScopeQuery {
    scope: Option<String>,
    tenant: Option<String>,
}

pub async fn preflight(
    State(state): State<WebState>,
    op: Operator,
    Path(key): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> ApiResult {
    let service = state.app.runbooks();
    service.runbook(&key)?;
    let scope = scope_request(opt(&q.scope), opt(&q.tenant))?;
    let p = service.preflight(&op.actor(), &key, &scope).await?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
pub struct StartBody {
    scope: Option<String>,
    tenant: Option<String>,
    reason: Option<String>,
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    min_finished: Option<String>,
}

pub async fn start(
    State(state): State<WebState>,
    op: Operator,
    Path(key): Path<String>,
    payload: Result<Json<StartBody>, JsonRejection>,
) -> ApiResult {
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

pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    Query(q): Query<RunsQuery>,
) -> ApiResult {
    let filter = q.filter(RUNS_LIMIT, false)?;
    let runs = state.app.runbooks().runs(&op.actor(), &filter).await?;
    Ok(Json(runs).into_response())
}

pub async fn run(State(state): State<WebState>, op: Operator, Path(id): Path<String>) -> ApiResult {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    Ok(Json(run).into_response())
}

/// Takes a JSON body (`{}`), like every state change of the API.
pub async fn cancel(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<serde_json::Value>, JsonRejection>,
) -> ApiResult {
    body(payload)?;
    let run = state
        .app
        .runbooks()
        .cancel(&op.actor(), run_id(&id)?)
        .await?;
    Ok(Json(run).into_response())
}

#[derive(Deserialize, Default)]
pub struct RetryBody {
    reason: Option<String>,
}

pub async fn retry_failed(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    payload: Result<Json<RetryBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let ensured_run = state
        .app
        .runbooks()
        .retry_failed(&op.actor(), run_id(&id)?, opt(&b.reason))
        .await?;
    Ok(ensured(ensured_run))
}
