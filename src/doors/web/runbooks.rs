//! `/system/runbooks`: the runbooks an operator may see, preflight of one
//! (`?scope=&tenant=`, bookmarkable), and starting it with a reason.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, Operator, Query, SignedForm, WebError, WebState, opt, page, page_with, scope_request,
};
use crate::console::TenantChoice;
use crate::error::Error;
use crate::runbooks::{Preflight, RunbookInfo};

#[derive(Template)]
#[template(path = "system/runbooks.html")]
struct RunbooksPage {
    chrome: Chrome,
    runbooks: Vec<RunbookInfo>,
}

#[derive(Debug, Clone)]
struct PreflightView {
    scope_label: String,
    tenants: i64,
    items_pending: i64,
    per_tenant: Vec<(String, i64)>,
    active_run_id: Option<i64>,
    can_start: bool,
}

impl PreflightView {
    fn of(p: &Preflight) -> PreflightView {
        PreflightView {
            scope_label: p.scope.describe(),
            tenants: p.tenants,
            items_pending: p.items_pending,
            per_tenant: p
                .per_tenant
                .iter()
                .map(|t| (t.tenant_external_id.clone(), t.items_pending))
                .collect(),
            active_run_id: p.active_run_id,
            can_start: p.can_start,
        }
    }
}

#[derive(Template)]
#[template(path = "system/runbook.html")]
struct RunbookPage {
    chrome: Chrome,
    runbook: RunbookInfo,
    tenants: Vec<TenantChoice>,
    scope: String,
    tenant: String,
    preflight: Option<PreflightView>,
    error: String,
    reason: String,
}

pub async fn runbooks(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = Chrome::operator(&state, &op, &session, "runbooks").await?;
    let runbooks = state.app.runbooks().list(&op.actor())?;
    page(&RunbooksPage { chrome, runbooks })
}

/// What the runbook page shows besides the runbook: the scope picked, the
/// reason typed, and what is wrong with them.
struct Typed<'a> {
    scope: Option<&'a str>,
    tenant: Option<&'a str>,
    reason: &'a str,
    error: Option<String>,
}

/// The runbook page, with preflight when a scope is given; bad input is
/// shown on the page with its status.
async fn runbook_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    key: &str,
    typed: Typed<'_>,
) -> Result<Response, WebError> {
    let service = state.app.runbooks();
    let actor = op.actor();
    let info = service.info(&actor, key)?;
    let tenants = state.app.console().tenants(&op.identity).await?;
    let mut status = StatusCode::OK;
    let mut message = typed.error.unwrap_or_default();
    let preflight = match typed.scope {
        None => None,
        Some(_) => match scope_request(typed.scope, typed.tenant) {
            Ok(request) => match service.preflight(&actor, info.key, &request).await {
                Ok(p) => Some(PreflightView::of(&p)),
                Err(e) if e.is_caller_error() => {
                    let e = WebError::from(e);
                    status = e.status;
                    message = e.message;
                    None
                }
                Err(e) => return Err(e.into()),
            },
            Err(e) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                message = e.to_string();
                None
            }
        },
    };
    if !message.is_empty() && status == StatusCode::OK {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    page_with(
        status,
        &RunbookPage {
            chrome: Chrome::operator(state, op, session, "runbooks").await?,
            runbook: info,
            tenants,
            scope: typed.scope.unwrap_or("all").to_owned(),
            tenant: typed.tenant.unwrap_or("").trim().to_owned(),
            preflight,
            error: message,
            reason: typed.reason.to_owned(),
        },
    )
}

#[derive(Deserialize)]
pub struct ScopeQuery {
    scope: Option<String>,
    tenant: Option<String>,
}

pub async fn runbook(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(key): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, WebError> {
    let typed = Typed {
        scope: opt(&q.scope),
        tenant: opt(&q.tenant),
        reason: "",
        error: None,
    };
    runbook_page(&state, &op, &session, &key, typed).await
}

#[derive(Deserialize)]
pub struct StartForm {
    scope: Option<String>,
    tenant: Option<String>,
    reason: Option<String>,
}

pub async fn start(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(key): Path<String>,
    SignedForm(form): SignedForm<StartForm>,
) -> Result<Response, WebError> {
    let service = state.app.runbooks();
    // An unknown runbook is a 404 page, not a form to fix.
    service.runbook(&key)?;
    let reason = form.reason.as_deref().unwrap_or("");
    let result = match scope_request(opt(&form.scope), opt(&form.tenant)) {
        Ok(scope) => service.start(&op.actor(), &key, &scope, Some(reason)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(ensured) => {
            Ok(Redirect::to(&format!("/system/runs/{}", ensured.run.id)).into_response())
        }
        Err(e @ (Error::BadInput(_) | Error::NotFound(_))) => {
            // Show the form again with what was typed and what is wrong.
            let typed = Typed {
                scope: opt(&form.scope),
                tenant: opt(&form.tenant),
                reason,
                error: Some(e.to_string()),
            };
            let mut page = runbook_page(&state, &op, &session, &key, typed).await?;
            *page.status_mut() = WebError::from(e).status;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}
