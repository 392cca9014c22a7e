//! Sign-in and sign-out of both planes. One flow serves both: the accounts
//! service throttles, checks the password and audits; the page differs only
//! in plane and wording.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::session::{self, csrf_token};
use super::kit::{
    AlreadySignedIn, ClientIp, Query, SignedForm, TokenOnly, WebError, WebState, opt, page,
    page_with, with_retry_after,
};
use crate::accounts::{Plane, SignInOutcome};

#[derive(Template)]
#[template(path = "shared/login.html")]
struct LoginPage {
    plane: &'static str,
    heading: &'static str,
    action: &'static str,
    csrf: String,
    email: String,
    next: String,
    error: String,
}

impl LoginPage {
    fn of(plane: Plane, csrf: String, email: String, next: String, error: String) -> LoginPage {
        let (heading, action) = match plane {
            Plane::System => ("Operator sign-in", "/system/login"),
            Plane::Admin => ("Sign in to your workspace", "/admin/login"),
        };
        LoginPage {
            plane: plane.as_str(),
            heading,
            action,
            csrf,
            email,
            next,
            error,
        }
    }
}

fn root(plane: Plane) -> &'static str {
    match plane {
        Plane::System => "/system",
        Plane::Admin => "/admin",
    }
}

/// Only paths inside the plane are followed after sign-in.
fn safe_next(next: Option<&str>, plane: Plane) -> String {
    let plane_root = root(plane);
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

async fn login_page(
    plane: Plane,
    session: Session,
    AlreadySignedIn(signed_in): AlreadySignedIn,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if signed_in {
        return Ok(Redirect::to(&safe_next(opt(&q.next), plane)).into_response());
    }
    page(&LoginPage::of(
        plane,
        csrf_token(&session).await?,
        String::new(),
        opt(&q.next).map(str::to_owned).unwrap_or_default(),
        String::new(),
    ))
}

pub async fn system_login_page(
    session: Session,
    signed_in: AlreadySignedIn,
    query: Query<NextQuery>,
) -> Result<Response, WebError> {
    login_page(Plane::System, session, signed_in, query).await
}

pub async fn admin_login_page(
    session: Session,
    signed_in: AlreadySignedIn,
    query: Query<NextQuery>,
) -> Result<Response, WebError> {
    login_page(Plane::Admin, session, signed_in, query).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn throttled_message(state: &WebState, secs: i64) -> String {
    let at = state.app.clock.now() + chrono::Duration::seconds(secs);
    format!(
        "Too many sign-in attempts. Try again in {secs} second{} (after {}).",
        if secs == 1 { "" } else { "s" },
        at.format("%H:%M:%S UTC")
    )
}

async fn login_submit(
    plane: Plane,
    state: WebState,
    session: Session,
    ip: String,
    form: LoginForm,
) -> Result<Response, WebError> {
    let outcome = state
        .app
        .accounts()
        .sign_in(plane, &ip, &form.email, &form.password)
        .await?;
    let (status, error, retry_after) = match outcome {
        SignInOutcome::SignedIn(who) => {
            session::begin(&session, plane, who.id()).await?;
            return Ok(Redirect::to(&safe_next(opt(&form.next), plane)).into_response());
        }
        SignInOutcome::Failed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Email or password is not correct.".to_owned(),
            None,
        ),
        SignInOutcome::Throttled { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            throttled_message(&state, retry_after_secs),
            Some(retry_after_secs),
        ),
    };
    let view = LoginPage::of(
        plane,
        csrf_token(&session).await?,
        form.email.trim().to_owned(),
        opt(&form.next).map(str::to_owned).unwrap_or_default(),
        error,
    );
    let response = page_with(status, &view)?;
    Ok(match retry_after {
        Some(secs) => with_retry_after(response, secs),
        None => response,
    })
}

pub async fn system_login(
    State(state): State<WebState>,
    session: Session,
    ClientIp(ip): ClientIp,
    SignedForm(form): SignedForm<LoginForm>,
) -> Result<Response, WebError> {
    login_submit(Plane::System, state, session, ip, form).await
}

pub async fn admin_login(
    State(state): State<WebState>,
    session: Session,
    ClientIp(ip): ClientIp,
    SignedForm(form): SignedForm<LoginForm>,
) -> Result<Response, WebError> {
    login_submit(Plane::Admin, state, session, ip, form).await
}

pub async fn system_logout(
    session: Session,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    session::end(&session).await?;
    Ok(Redirect::to("/system/login").into_response())
}

pub async fn admin_logout(
    session: Session,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    session::end(&session).await?;
    Ok(Redirect::to("/admin/login").into_response())
}
