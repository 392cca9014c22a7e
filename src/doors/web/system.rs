//! `/system`: the operator console's pages. Each handler parses, calls the
//! runbook service with the operator as actor, and renders.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::WebState;
use super::error::WebError;
use super::forms::{Query, SignedForm, opt, page, path_id, run_id};
use super::metrics;
use super::routes::{OPERATOR_KEY, Operator, csrf_token, new_csrf_token};
use super::security::ClientIp;
use super::views::{self, Chrome, Pager, RunView};
use crate::accounts::{self, SignIn, Throttle, ThrottleDecision};
use crate::domain::{Capability, Email};
use crate::runs::{Outcome, RunFilter, RunStatus};
use crate::service::ScopeRequest;
use crate::storage::{console, directory, directory::AuditEntry};

const PAGE_SIZE: i64 = 25;

pub async fn chrome(
    state: &WebState,
    op: &Operator,
    session: &Session,
    section: &'static str,
) -> Result<Chrome, WebError> {
    Ok(Chrome {
        plane: "system",
        section,
        user_name: op.user.name.clone(),
        user_email: op.user.email.clone(),
        csrf: csrf_token(session).await?,
        unread: console::unread_count(&state.app.db, op.user.id).await?,
        can_runbooks: op.can(Capability::RUNBOOKS_VIEW),
        can_runs: op.can(Capability::OPERATIONS_VIEW),
        can_alerts: op.can(Capability::ALERTS_MANAGE),
        workspace: String::new(),
    })
}

/// Records an audit entry in its own transaction.
pub async fn audit(state: &WebState, entry: AuditEntry) -> Result<(), WebError> {
    directory::audit_now(&state.app.db, &entry, state.app.clock.now()).await?;
    Ok(())
}

pub fn login_audit(
    kind: &str,
    action: &str,
    email: &str,
    ip: &str,
    user_id: Option<i64>,
) -> AuditEntry {
    AuditEntry {
        actor_kind: kind.into(),
        actor_id: user_id,
        actor_email: Some(Email::normalize_loose(email)),
        action: action.into(),
        subject: None,
        detail: serde_json::json!({}),
        ip: Some(ip.to_owned()),
    }
}

/// Only paths inside the plane are followed after sign-in.
pub fn safe_next(next: Option<&str>, plane_root: &str) -> String {
    match next {
        Some(n)
            if n.starts_with(plane_root)
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.contains("/login") =>
        {
            n.to_owned()
        }
        _ => plane_root.to_owned(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    session: Session,
    operator: Option<axum::Extension<Operator>>,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if operator.is_some() {
        return Ok(Redirect::to(&safe_next(opt(&q.next), "/system")).into_response());
    }
    views::page(&views::LoginPage {
        plane: "system",
        heading: "Operator sign-in",
        action: "/system/login",
        csrf: csrf_token(&session).await?,
        email: String::new(),
        next: opt(&q.next).map(str::to_owned).unwrap_or_default(),
        error: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The result of a throttled sign-in, shared by both planes.
pub enum LoginOutcome<U> {
    SignedIn(U),
    Failed,
    Throttled(i64),
}

/// SR-003 then the password: a throttled attempt never reaches the hash.
pub async fn throttled_sign_in<U, F, Fut>(
    state: &WebState,
    plane: &'static str,
    ip: &str,
    email: &str,
    check: F,
) -> Result<LoginOutcome<U>, WebError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<SignIn<U>>>,
{
    match state
        .throttle
        .check(&Throttle::key(plane, ip, email))
        .await?
    {
        ThrottleDecision::Throttled { retry_after_secs } => {
            metrics::login_attempt(plane, "throttled");
            Ok(LoginOutcome::Throttled(retry_after_secs))
        }
        ThrottleDecision::Allowed => match check().await? {
            SignIn::Ok(u) => {
                metrics::login_attempt(plane, "succeeded");
                Ok(LoginOutcome::SignedIn(u))
            }
            SignIn::Failed => {
                metrics::login_attempt(plane, "failed");
                Ok(LoginOutcome::Failed)
            }
        },
    }
}

pub fn throttled_message(state: &WebState, secs: i64) -> String {
    let at = state.app.clock.now() + chrono::Duration::seconds(secs);
    format!(
        "Too many sign-in attempts. Try again in {secs} second{} (after {}).",
        if secs == 1 { "" } else { "s" },
        at.format("%H:%M:%S UTC")
    )
}

pub fn with_retry_after(mut response: Response, secs: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

pub async fn login_submit(
    State(state): State<WebState>,
    session: Session,
    ClientIp(ip): ClientIp,
    SignedForm(form): SignedForm<LoginForm>,
) -> Result<Response, WebError> {
    let db = state.app.db.clone();
    let (email, password) = (form.email.clone(), form.password.clone());
    let outcome = throttled_sign_in(&state, "system", &ip, &form.email, || async move {
        accounts::sign_in_platform(&db, &email, &password).await
    })
    .await?;
    let rerender = |status: StatusCode, error: String, csrf: String| {
        views::page_with(
            status,
            &views::LoginPage {
                plane: "system",
                heading: "Operator sign-in",
                action: "/system/login",
                csrf,
                email: form.email.trim().to_owned(),
                next: opt(&form.next).map(str::to_owned).unwrap_or_default(),
                error,
            },
        )
    };
    match outcome {
        LoginOutcome::SignedIn(user) => {
            // A new session id at sign-in (no fixation), and a new CSRF token.
            session.cycle_id().await?;
            session.insert(OPERATOR_KEY, user.id).await?;
            new_csrf_token(&session).await?;
            audit(
                &state,
                login_audit(
                    "platform_user",
                    "login.succeeded",
                    &user.email,
                    &ip,
                    Some(user.id),
                ),
            )
            .await?;
            Ok(Redirect::to(&safe_next(opt(&form.next), "/system")).into_response())
        }
        LoginOutcome::Failed => {
            audit(
                &state,
                login_audit("platform_user", "login.failed", &form.email, &ip, None),
            )
            .await?;
            rerender(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Email or password is not correct.".into(),
                csrf_token(&session).await?,
            )
        }
        LoginOutcome::Throttled(secs) => {
            audit(
                &state,
                login_audit("platform_user", "login.throttled", &form.email, &ip, None),
            )
            .await?;
            let page = rerender(
                StatusCode::TOO_MANY_REQUESTS,
                throttled_message(&state, secs),
                csrf_token(&session).await?,
            )?;
            Ok(with_retry_after(page, secs))
        }
    }
}

#[derive(Deserialize)]
pub struct TokenOnly {}

pub async fn logout(
    session: Session,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    session.flush().await?;
    Ok(Redirect::to("/system/login").into_response())
}

pub async fn dashboard(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = chrome(&state, &op, &session, "dashboard").await?;
    let service = state.app.runbooks();
    let actor = op.actor();
    let (active, recent) = if op.can(Capability::OPERATIONS_VIEW) {
        let mut active = service
            .runs(
                &actor,
                &RunFilter {
                    status: Some(RunStatus::Running),
                    limit: 10,
                    ..RunFilter::default()
                },
            )
            .await?;
        active.extend(
            service
                .runs(
                    &actor,
                    &RunFilter {
                        status: Some(RunStatus::Queued),
                        limit: 10,
                        ..RunFilter::default()
                    },
                )
                .await?,
        );
        let recent = service
            .runs(
                &actor,
                &RunFilter {
                    limit: 10,
                    ..RunFilter::default()
                },
            )
            .await?;
        (
            active.iter().map(RunView::of).collect(),
            recent.iter().map(RunView::of).collect(),
        )
    } else {
        (vec![], vec![])
    };
    let notifications = console::notifications(&state.app.db, op.user.id, true, 5, 0).await?;
    views::page(&views::Dashboard {
        chrome,
        active,
        recent,
        notifications: notifications
            .iter()
            .map(views::NotificationView::of)
            .collect(),
    })
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

pub async fn notifications(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let chrome = chrome(&state, &op, &session, "notifications").await?;
    let p = page(&q.page);
    let mut list = console::notifications(
        &state.app.db,
        op.user.id,
        false,
        PAGE_SIZE + 1,
        (p - 1) * PAGE_SIZE,
    )
    .await?;
    let more = list.len() as i64 > PAGE_SIZE;
    list.truncate(PAGE_SIZE as usize);
    views::page(&views::NotificationsPage {
        chrome,
        notifications: list.iter().map(views::NotificationView::of).collect(),
        pager: Pager::new("/system/notifications", &[], p, more),
    })
}

pub async fn mark_read(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "notification")?;
    // Only this operator's own notifications change; marking twice is harmless.
    console::mark_read(&state.app.db, op.user.id, Some(id), state.app.clock.now()).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}

pub async fn mark_all_read(
    State(state): State<WebState>,
    op: Operator,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    console::mark_read(&state.app.db, op.user.id, None, state.app.clock.now()).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}

pub async fn runbooks(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = chrome(&state, &op, &session, "runbooks").await?;
    let runbooks = state.app.runbooks().list(&op.actor())?;
    views::page(&views::RunbooksPage { chrome, runbooks })
}

#[derive(Deserialize)]
pub struct ScopeQuery {
    scope: Option<String>,
    tenant: Option<String>,
}

/// The form's `scope` (`all` or `tenant`) and `tenant` as a scope request.
pub fn parse_scope(
    scope: Option<&str>,
    tenant: Option<&str>,
) -> crate::error::Result<ScopeRequest> {
    match scope {
        Some("all") => Ok(ScopeRequest::AllTenants),
        Some("tenant") => ScopeRequest::from_parts(false, Some(tenant.unwrap_or(""))),
        Some(other) => Err(crate::error::Error::BadInput(format!(
            "unknown scope {other:?}: use all or tenant"
        ))),
        None => Err(crate::error::Error::BadInput(
            "choose a scope: all or tenant".into(),
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn runbook_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    key: &str,
    scope: Option<&str>,
    tenant: Option<&str>,
    reason: &str,
    error: Option<String>,
) -> Result<(StatusCode, Response), WebError> {
    let service = state.app.runbooks();
    let actor = op.actor();
    let info = service
        .list(&actor)?
        .into_iter()
        .find(|r| r.key == key.trim())
        .ok_or_else(|| {
            WebError::from(
                service
                    .runbook(key)
                    .err()
                    .unwrap_or_else(|| crate::error::Error::NotFound(key.into())),
            )
        })?;
    let ws = service.workspace().await?;
    let tenants = directory::tenants_of(&state.app.db, ws.id)
        .await?
        .into_iter()
        .map(|t| views::TenantOption {
            external_id: t.external_id,
            name: t.name,
        })
        .collect();
    let mut status = StatusCode::OK;
    let mut message = error.unwrap_or_default();
    let preflight = match scope {
        None => None,
        Some(_) => match parse_scope(scope, tenant) {
            Ok(request) => match service.preflight(&actor, info.key, &request).await {
                Ok(p) => Some(views::PreflightView::of(&p)),
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
    let page = views::page_with(
        status,
        &views::RunbookPage {
            chrome: chrome(state, op, session, "runbooks").await?,
            runbook: info,
            tenants,
            scope: scope.unwrap_or("all").to_owned(),
            tenant: tenant.unwrap_or("").trim().to_owned(),
            preflight,
            error: message,
            reason: reason.to_owned(),
        },
    )?;
    Ok((status, page))
}

pub async fn runbook(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(key): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Result<Response, WebError> {
    let (_, page) = runbook_page(
        &state,
        &op,
        &session,
        &key,
        opt(&q.scope),
        opt(&q.tenant),
        "",
        None,
    )
    .await?;
    Ok(page)
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
    let result = match parse_scope(opt(&form.scope), opt(&form.tenant)) {
        Ok(scope) => {
            service
                .start(
                    &op.actor(),
                    &key,
                    &scope,
                    Some(form.reason.as_deref().unwrap_or("")),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(ensured) => {
            Ok(Redirect::to(&format!("/system/runs/{}", ensured.run.id)).into_response())
        }
        Err(e @ (crate::error::Error::BadInput(_) | crate::error::Error::NotFound(_))) => {
            // Show the form again with what was typed and what is wrong.
            let message = e.to_string();
            let (_, page) = runbook_page(
                &state,
                &op,
                &session,
                &key,
                opt(&form.scope),
                opt(&form.tenant),
                form.reason.as_deref().unwrap_or(""),
                Some(message),
            )
            .await?;
            let mut page = page;
            *page.status_mut() = WebError::from(e).status;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RunsQuery {
    runbook: Option<String>,
    status: Option<String>,
    outcome: Option<String>,
    page: Option<String>,
}

/// The run filter of a query; an unknown status or outcome is bad input.
pub fn run_filter(q: &RunsQuery, page_size: i64) -> Result<(RunFilter, i64), WebError> {
    let status = match opt(&q.status) {
        Some(s) => Some(
            RunStatus::parse(s)
                .ok_or_else(|| WebError::bad_request(format!("unknown status {s:?}")))?,
        ),
        None => None,
    };
    let outcome = match opt(&q.outcome) {
        Some(o) => Some(
            Outcome::parse(o)
                .ok_or_else(|| WebError::bad_request(format!("unknown outcome {o:?}")))?,
        ),
        None => None,
    };
    let p = page(&q.page);
    Ok((
        RunFilter {
            runbook: opt(&q.runbook).map(str::to_owned),
            status,
            outcome,
            workspace_id: None,
            limit: page_size + 1,
            offset: (p - 1) * page_size,
        },
        p,
    ))
}

pub async fn runs(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<RunsQuery>,
) -> Result<Response, WebError> {
    let (filter, p) = run_filter(&q, PAGE_SIZE)?;
    let mut runs = state.app.runbooks().runs(&op.actor(), &filter).await?;
    let more = runs.len() as i64 > PAGE_SIZE;
    runs.truncate(PAGE_SIZE as usize);
    let base = [
        ("runbook", opt(&q.runbook).unwrap_or("").to_owned()),
        ("status", opt(&q.status).unwrap_or("").to_owned()),
        ("outcome", opt(&q.outcome).unwrap_or("").to_owned()),
    ];
    views::page(&views::RunsPage {
        chrome: chrome(&state, &op, &session, "runs").await?,
        runs: runs.iter().map(RunView::of).collect(),
        runbooks: state
            .app
            .registry
            .keys()
            .iter()
            .map(|k| k.to_string())
            .collect(),
        runbook: base[0].1.clone(),
        status: base[1].1.clone(),
        outcome: base[2].1.clone(),
        pager: Pager::new("/system/runs", &base, p, more),
    })
}

pub async fn view_run(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    views::page(&views::RunPage {
        chrome: chrome(&state, &op, &session, "runs").await?,
        run: RunView::of(&run),
        can_act: op.can(Capability::RUNBOOKS_RUN),
    })
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn run_live(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(&id)?).await?;
    views::page(&views::RunLive {
        run: RunView::of(&run),
        can_act: op.can(Capability::RUNBOOKS_RUN),
    })
}

async fn confirm_page(
    state: &WebState,
    op: &Operator,
    session: &Session,
    id: &str,
    action: &'static str,
    error: String,
) -> Result<Response, WebError> {
    let run = state.app.runbooks().run(&op.actor(), run_id(id)?).await?;
    let view = RunView::of(&run);
    let page = if action == "cancel" {
        views::ConfirmPage {
            chrome: chrome(state, op, session, "runs").await?,
            explanation: format!(
                "Tenants not yet processed are dropped; the {} already processed keep their changes. The run ends as cancelled.",
                view.processed
            ),
            run: view,
            action,
            heading: "Cancel this run?",
            button: "Cancel run",
            with_reason: false,
            error,
        }
    } else {
        views::ConfirmPage {
            chrome: chrome(state, op, session, "runs").await?,
            explanation: format!(
                "A new run starts over just the {} failed tenant(s) of this run.",
                view.failed
            ),
            run: view,
            action,
            heading: "Retry the failed tenants?",
            button: "Start retry run",
            with_reason: true,
            error,
        }
    };
    views::page(&page)
}

pub async fn cancel_confirm(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm_page(&state, &op, &session, &id, "cancel", String::new()).await
}

pub async fn retry_confirm(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    confirm_page(&state, &op, &session, &id, "retry-failed", String::new()).await
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

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    page: Option<String>,
}

pub async fn audit_log(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let p = page(&q.page);
    let mut events = console::audit_events(
        &state.app.db,
        opt(&q.action),
        PAGE_SIZE + 1,
        (p - 1) * PAGE_SIZE,
    )
    .await?;
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let action = opt(&q.action).unwrap_or("").to_owned();
    views::page(&views::AuditPage {
        chrome: chrome(&state, &op, &session, "audit").await?,
        events: events.iter().map(views::AuditView::of).collect(),
        pager: Pager::new("/system/audit", &[("action", action.clone())], p, more),
        action,
    })
}
