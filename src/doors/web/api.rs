//! `/system/api`: the runbook service in JSON, behind the same sessions and
//! capabilities as the pages. Runs have the shape of Appendix A. State
//! changes need `Content-Type: application/json` (a cross-site form cannot
//! send it) and pass the Origin check.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::WebState;
use super::error::WebError;
use super::forms::{Query, opt, run_id};
use super::routes::Operator;
use super::system::{RunsQuery, parse_scope, run_filter};

type ApiResult = Result<Response, WebError>;

fn json_err(e: impl Into<WebError>) -> WebError {
    e.into().json()
}

fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, WebError> {
    payload.map(|Json(v)| v).map_err(|e| {
        let status = match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        WebError::new(status, e.body_text()).json()
    })
}

pub async fn runbooks(State(state): State<WebState>, op: Operator) -> ApiResult {
    let list = state.app.runbooks().list(&op.actor()).map_err(json_err)?;
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
    query: Result<Query<ScopeQuery>, WebError>,
) -> ApiResult {
    let Query(q) = query.map_err(WebError::json)?;
    let service = state.app.runbooks();
    service.runbook(&key).map_err(json_err)?;
    let scope = parse_scope(opt(&q.scope), opt(&q.tenant)).map_err(json_err)?;
    let p = service
        .preflight(&op.actor(), &key, &scope)
        .await
        .map_err(json_err)?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
pub struct StartBody {
    scope: Option<String>,
    tenant: Option<String>,
    reason: Option<String>,
}

/// 201 with the new run, or 200 with the active run of the same scope.
pub async fn start(
    State(state): State<WebState>,
    op: Operator,
    Path(key): Path<String>,
    payload: Result<Json<StartBody>, JsonRejection>,
) -> ApiResult {
    let b = body(payload)?;
    let service = state.app.runbooks();
    service.runbook(&key).map_err(json_err)?;
    let scope = parse_scope(opt(&b.scope), opt(&b.tenant)).map_err(json_err)?;
    let ensured = service
        .start(
            &op.actor(),
            &key,
            &scope,
            Some(b.reason.as_deref().unwrap_or("")),
        )
        .await
        .map_err(json_err)?;
    let status = if ensured.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ensured.run)).into_response())
}

pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    query: Result<Query<RunsQuery>, WebError>,
) -> ApiResult {
    let Query(q) = query.map_err(WebError::json)?;
    let (mut filter, _) = run_filter(&q, 50).map_err(WebError::json)?;
    filter.limit = 50;
    let runs = state
        .app
        .runbooks()
        .runs(&op.actor(), &filter)
        .await
        .map_err(json_err)?;
    Ok(Json(runs).into_response())
}

pub async fn run(State(state): State<WebState>, op: Operator, Path(id): Path<String>) -> ApiResult {
    let run = state
        .app
        .runbooks()
        .run(&op.actor(), run_id(&id).map_err(WebError::json)?)
        .await
        .map_err(json_err)?;
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
        .cancel(&op.actor(), run_id(&id).map_err(WebError::json)?)
        .await
        .map_err(json_err)?;
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
    let ensured = state
        .app
        .runbooks()
        .retry_failed(
            &op.actor(),
            run_id(&id).map_err(WebError::json)?,
            opt(&b.reason),
        )
        .await
        .map_err(json_err)?;
    let status = if ensured.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ensured.run)).into_response())
}
