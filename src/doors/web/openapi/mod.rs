//! The OpenAPI 3.1 description of `/system/api`, generated from the
//! handlers' annotations and the types they answer with, and served at
//! `GET /system/api/openapi.json`. Tests hold it to the route table (every
//! API route is described) and check the API's answers against its schemas.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::kit::state::cookie_name;
use super::{runbooks, runs};
use crate::accounts::Plane;

pub mod errors;
pub mod inputs;

pub use errors::{ApiError, ReadErrors, WriteErrors};

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
        runbooks::api::runbooks_json,
        runbooks::api::preflight_json,
        runbooks::api::start_json,
        runs::runs_json,
        runs::run_json,
        runs::controls::cancel,
        runs::retry::retry_failed,
        runs::tenants::tenants,
        runs::controls::pause,
        runs::controls::resume,
        runs::controls::limits,
        runs::retry::retry,
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
