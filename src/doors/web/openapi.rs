//! The OpenAPI 3.1 description of `/system/api`, generated from the
//! handlers' annotations and the types they answer with, and served at
//! `GET /system/api/openapi.json`. Tests hold it to the route table (every
//! API route is described) and check the API's answers against its schemas.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::api;
use super::kit::state::cookie_name;
use crate::accounts::Plane;

/// The body of every error the API answers.
#[derive(ToSchema)]
pub struct ApiError {
    /// What went wrong, for a person to read.
    pub error: String,
}

/// What any operation may answer besides its success.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// The request could not be read (a path or query that is not UTF-8).
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiError),
    /// Bad input: an unknown scope, tenant or filter, or a value with
    /// control characters.
    #[response(status = 422)]
    Unprocessable(#[to_schema] ApiError),
    /// No operator session.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ApiError),
    /// The operator does not hold the capability the operation needs.
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiError),
    /// No such runbook or run.
    #[response(status = 404)]
    NotFound(#[to_schema] ApiError),
    /// Something failed on the server; the detail is in its log.
    #[response(status = 500)]
    Internal(#[to_schema] ApiError),
}

/// What a state change may answer besides its success.
#[derive(IntoResponses)]
pub enum WriteErrors {
    /// The request could not be read (malformed JSON, a path that is not
    /// UTF-8).
    #[response(status = 400)]
    BadRequest(#[to_schema] ApiError),
    /// No operator session.
    #[response(status = 401)]
    Unauthorized(#[to_schema] ApiError),
    /// The operator does not hold the capability the operation needs, or
    /// the request came from another origin.
    #[response(status = 403)]
    Forbidden(#[to_schema] ApiError),
    /// No such runbook or run.
    #[response(status = 404)]
    NotFound(#[to_schema] ApiError),
    /// The run is in no state for this (already completed, say).
    #[response(status = 409)]
    Conflict(#[to_schema] ApiError),
    /// The body is too large.
    #[response(status = 413)]
    TooLarge(#[to_schema] ApiError),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(#[to_schema] ApiError),
    /// Bad input: fields the operation does not take, an unknown scope or
    /// tenant, a missing reason, a value with control characters.
    #[response(status = 422)]
    Unprocessable(#[to_schema] ApiError),
    /// Something failed on the server; the detail is in its log.
    #[response(status = 500)]
    Internal(#[to_schema] ApiError),
}

/// The operator's session cookie, the API's only credential.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                cookie_name(Plane::System),
                "The session of an operator signed in at /system/login.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TenantAtlas Ops API",
        description = "The runbook service in JSON, behind the operator console's sessions and capabilities. \
                       State changes take `Content-Type: application/json` and pass the Origin check.",
    ),
    paths(
        api::runbooks,
        api::preflight,
        api::start,
        api::runs,
        api::run,
        api::cancel,
        api::retry_failed,
        document,
    ),
    modifiers(&SessionCookie),
    security(("session" = [])),
    tags(
        (name = "runbooks", description = "Runbooks, their preflight and starting them"),
        (name = "runs", description = "Runs and what operators do with them"),
    )
)]
pub struct ApiDoc;

/// The description as JSON, made once.
pub fn description() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default())
}

/// `GET /system/api/openapi.json`: this description.
#[utoipa::path(
    get,
    path = "/system/api/openapi.json",
    tag = "runs",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of /system/api", content_type = "application/json", body = Object),
        (status = 401, description = "No operator session", body = ApiError),
        (status = 404, description = "A customer session: the operator plane is not theirs", body = ApiError),
        (status = 500, description = "Something failed on the server", body = ApiError),
    )
)]
pub async fn document() -> Response {
    Json(description()).into_response()
}
