//! `/admin`: the customer plane. Its own sign-in; the findings and the runs
//! of the user's workspace, read-only. No maintenance action exists here
//! (FR-001): no button, no route.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::WebState;
use super::error::WebError;
use super::forms::{Query, SignedForm, opt, page, run_id};
use super::routes::{Customer, USER_KEY, csrf_token, new_csrf_token};
use super::security::ClientIp;
use super::system::{
    LoginOutcome, TokenOnly, audit, login_audit, safe_next, throttled_message, throttled_sign_in,
    with_retry_after,
};
use super::views::{self, Chrome, Pager, RunView};
use crate::accounts;
use crate::runs::RunFilter;
use crate::storage::console::{self, FindingFilter};

const PAGE_SIZE: i64 = 50;

async fn chrome(
    state: &WebState,
    c: &Customer,
    session: &Session,
    section: &'static str,
) -> Result<Chrome, WebError> {
    let ws: Option<(String,)> = state
        .app
        .db
        .fetch_optional(
            "SELECT name FROM workspaces WHERE id = $1",
            crate::args![c.user.workspace_id],
        )
        .await?;
    Ok(Chrome {
        plane: "admin",
        section,
        user_name: c.user.name.clone(),
        user_email: c.user.email.clone(),
        csrf: csrf_token(session).await?,
        unread: 0,
        can_runbooks: false,
        can_runs: false,
        can_alerts: false,
        workspace: ws.map(|w| w.0).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_view(csrf: String, email: String, next: String, error: String) -> views::LoginPage {
    views::LoginPage {
        plane: "admin",
        heading: "Sign in to your workspace",
        action: "/admin/login",
        csrf,
        email,
        next,
        error,
    }
}

pub async fn login_page(
    session: Session,
    customer: Option<axum::Extension<Customer>>,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if customer.is_some() {
        return Ok(Redirect::to(&safe_next(opt(&q.next), "/admin")).into_response());
    }
    let next = opt(&q.next).map(str::to_owned).unwrap_or_default();
    views::page(&login_view(
        csrf_token(&session).await?,
        String::new(),
        next,
        String::new(),
    ))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<WebState>,
    session: Session,
    ClientIp(ip): ClientIp,
    SignedForm(form): SignedForm<LoginForm>,
) -> Result<Response, WebError> {
    let db = state.app.db.clone();
    let (email, password) = (form.email.clone(), form.password.clone());
    let outcome = throttled_sign_in(&state, "admin", &ip, &form.email, || async move {
        accounts::sign_in_customer(&db, &email, &password).await
    })
    .await?;
    let next = opt(&form.next).map(str::to_owned).unwrap_or_default();
    match outcome {
        LoginOutcome::SignedIn(user) => {
            session.cycle_id().await?;
            session.insert(USER_KEY, user.id).await?;
            new_csrf_token(&session).await?;
            audit(
                &state,
                login_audit("user", "login.succeeded", &user.email, &ip, Some(user.id)),
            )
            .await?;
            Ok(Redirect::to(&safe_next(opt(&form.next), "/admin")).into_response())
        }
        LoginOutcome::Failed => {
            audit(
                &state,
                login_audit("user", "login.failed", &form.email, &ip, None),
            )
            .await?;
            let view = login_view(
                csrf_token(&session).await?,
                form.email.trim().to_owned(),
                next,
                "Email or password is not correct.".into(),
            );
            views::page_with(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
        LoginOutcome::Throttled(secs) => {
            audit(
                &state,
                login_audit("user", "login.throttled", &form.email, &ip, None),
            )
            .await?;
            let view = login_view(
                csrf_token(&session).await?,
                form.email.trim().to_owned(),
                next,
                throttled_message(&state, secs),
            );
            Ok(with_retry_after(
                views::page_with(StatusCode::TOO_MANY_REQUESTS, &view)?,
                secs,
            ))
        }
    }
}

pub async fn logout(
    session: Session,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    session.flush().await?;
    Ok(Redirect::to("/admin/login").into_response())
}

pub async fn home() -> Redirect {
    Redirect::to("/admin/findings")
}

#[derive(Deserialize)]
pub struct FindingsQuery {
    status: Option<String>,
    severity: Option<String>,
    tenant: Option<String>,
    page: Option<String>,
}

pub async fn findings(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Query(q): Query<FindingsQuery>,
) -> Result<Response, WebError> {
    let status = opt(&q.status).map(str::to_owned);
    if let Some(s) = &status
        && !["new", "acknowledged", "resolved", "risk_accepted"].contains(&s.as_str())
    {
        return Err(WebError::bad_request(format!("unknown status {s:?}")));
    }
    let severity = opt(&q.severity).map(str::to_owned);
    if let Some(s) = &severity
        && !["critical", "high", "medium", "low"].contains(&s.as_str())
    {
        return Err(WebError::bad_request(format!("unknown severity {s:?}")));
    }
    let filter = FindingFilter {
        status,
        severity,
        tenant_external_id: opt(&q.tenant).map(str::to_owned),
    };
    let p = page(&q.page);
    let mut rows = console::findings(
        &state.app.db,
        c.user.workspace_id,
        &filter,
        PAGE_SIZE + 1,
        (p - 1) * PAGE_SIZE,
    )
    .await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let now = state.app.clock.now();
    let base = [
        ("status", filter.status.clone().unwrap_or_default()),
        ("severity", filter.severity.clone().unwrap_or_default()),
        (
            "tenant",
            filter.tenant_external_id.clone().unwrap_or_default(),
        ),
    ];
    views::page(&views::FindingsPage {
        chrome: chrome(&state, &c, &session, "findings").await?,
        findings: rows
            .iter()
            .map(|f| views::FindingView::of(f, now))
            .collect(),
        status: base[0].1.clone(),
        severity: base[1].1.clone(),
        tenant: base[2].1.clone(),
        pager: Pager::new("/admin/findings", &base, p, more),
    })
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

pub async fn runs(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let p = page(&q.page);
    let filter = RunFilter {
        workspace_id: Some(c.user.workspace_id),
        limit: PAGE_SIZE + 1,
        offset: (p - 1) * PAGE_SIZE,
        ..RunFilter::default()
    };
    // Reading runs is not maintenance: the customer plane reads them directly.
    let mut runs = state.app.runs().list(&filter).await?;
    let more = runs.len() as i64 > PAGE_SIZE;
    runs.truncate(PAGE_SIZE as usize);
    views::page(&views::AdminRunsPage {
        chrome: chrome(&state, &c, &session, "runs").await?,
        runs: runs.iter().map(RunView::of).collect(),
        pager: Pager::new("/admin/runs", &[], p, more),
    })
}

pub async fn view_run(
    State(state): State<WebState>,
    c: Customer,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = run_id(&id)?;
    // Another workspace's run looks exactly like one that does not exist.
    let run = state
        .app
        .runs()
        .find(id)
        .await?
        .filter(|r| r.workspace_id == Some(c.user.workspace_id))
        .ok_or_else(|| WebError::new(StatusCode::NOT_FOUND, format!("run {id} does not exist")))?;
    views::page(&views::AdminRunPage {
        chrome: chrome(&state, &c, &session, "runs").await?,
        run: RunView::of(&run),
    })
}
