//! The runbooks in JSON (`/system/api/runbooks`): the list, a preflight
//! and starting a run. Runs have the shape of Appendix A; each handler
//! carries its OpenAPI description ([`crate::doors::web::openapi`]).

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};

use super::super::kit::{Ctx, JsonBody, Key, Query, WebError, opt};
use super::super::openapi::errors::{ReadErrors, WriteErrors};
use super::super::openapi::inputs;
use super::scope_request;
use crate::error::{Error, Result};
use crate::runbooks::{Preflight, RunbookInfo, ScopeRequest};
use crate::runs::{Run, RunLimits};

/// The runbooks this service offers, and whether the operator may start each.
#[utoipa::path(
    get,
    path = "/system/api/runbooks",
    tag = "runbooks",
    responses((status = 200, description = "Every runbook", body = [RunbookInfo]), ReadErrors)
)]
pub async fn runbooks_json(cx: Ctx) -> Result<Response, WebError> {
    let list = cx.state.app.runbooks().list(&cx.actor())?;
    Ok(Json(list).into_response())
}

/// A scope as a query asks for it (the API's preflight, the runbook page).
#[derive(Deserialize)]
pub struct ScopeQuery {
    pub scope: Option<String>,
    pub tenant: Option<String>,
}

impl utoipa::IntoParams for ScopeQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let scope = "`all` (every tenant) or `tenant` (the one named by `tenant`).";
        let tenant = "The tenant's external id, with `scope=tenant` only.";
        vec![
            inputs::query("scope", true, scope, inputs::scope()),
            inputs::query("tenant", false, tenant, inputs::tenant_param()),
        ]
    }
}

/// The API's scope: `tenant` goes with `scope: tenant` only. A tenant
/// beside `all` (even a blank one) contradicts it and is refused, naming
/// both, where the console's form asks which was meant: an API that guessed
/// would start a run over every tenant for a caller who named one.
fn api_scope(scope: Option<&str>, tenant: Option<&String>) -> Result<ScopeRequest> {
    match (scope, tenant) {
        (Some("all"), Some(t)) => Err(Error::BadInput(format!(
            "tenant: scope \"all\" takes no tenant, and {t:?} was given; send scope \"tenant\" to act on that tenant, or leave tenant out"
        ))),
        _ => scope_request(scope, tenant.map(String::as_str)),
    }
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
pub async fn preflight_json(
    cx: Ctx,
    Key(key): Key,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, WebError> {
    let service = cx.state.app.runbooks();
    service.runbook(&key)?;
    let scope = api_scope(opt(&q.scope), q.tenant.as_ref())?;
    let p = service.preflight(&cx.actor(), &key, &scope).await?;
    Ok(Json(p).into_response())
}

/// What starts a run (its schema: [`inputs::start_body`]).
#[derive(Deserialize)]
pub struct StartBody {
    /// `all` (every tenant) or `tenant` (the one named by `tenant`).
    pub scope: Option<String>,
    /// The tenant's external id, with `scope=tenant`.
    pub tenant: Option<String>,
    /// Why the run is started (required where the runbook asks for one).
    pub reason: Option<String>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub min_finished: Option<String>,
}

inputs::schema_of!(StartBody = inputs::start_body);

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
pub async fn start_json(
    cx: Ctx,
    Key(key): Key,
    JsonBody(b): JsonBody<StartBody>,
) -> Result<Response, WebError> {
    let service = cx.state.app.runbooks();
    service.runbook(&key)?;
    let scope = api_scope(opt(&b.scope), b.tenant.as_ref())?;
    let reason = Some(b.reason.as_deref().unwrap_or(""));
    let (cap, errors, min) = (&b.max_concurrency, &b.max_errors, &b.min_finished);
    let limits = RunLimits::parse(opt(cap), opt(errors), opt(min))?;
    let actor = cx.actor();
    let e = service.start_with_limits(&actor, &key, &scope, reason, limits);
    cx.ensured(&e.await?, None).await
}
