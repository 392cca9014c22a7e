//! Sign-in and sign-out of both planes. One flow serves both: the accounts
//! service throttles, checks the password and audits; the page differs only
//! in plane and wording.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::csrf::anonymous_token;
use super::kit::{
    AlreadySignedIn, ClientIp, Query, RouteInfo, SignedForm, TokenOnly, WebError, WebState, opt,
    page_with, with_retry_after,
};
use crate::accounts::sessions::{begin, end};
use crate::accounts::{Plane, SignInOutcome};

#[derive(Template)]
#[template(path = "shared/login.html")]
struct LoginPage {
    plane: &'static str,
    heading: &'static str,
    action: String,
    csrf: String,
    email: String,
    next: String,
    error: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Who is at a sign-in page: the route's plane and the request's headers
/// (the visitor's form token cookie).
pub struct Visitor {
    state: WebState,
    plane: Plane,
    headers: HeaderMap,
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, WebError> {
        Ok(Visitor {
            plane: RouteInfo::from_request_parts(parts, state).await?.plane,
            headers: parts.headers.clone(),
            state: state.clone(),
        })
    }
}

impl Visitor {
    /// The sign-in page with the visitor's form token; a new token comes
    /// with its cookie. Nothing is written to the database.
    async fn page(
        &self,
        status: StatusCode,
        email: &str,
        next: Option<&str>,
        error: String,
    ) -> Result<Response, WebError> {
        let (csrf, set_cookie) = anonymous_token(&self.state, &self.headers).await?;
        let view = LoginPage {
            plane: self.plane.as_str(),
            heading: self.plane.sign_in_heading(),
            action: format!("{}/login", self.plane.root()),
            csrf,
            email: email.to_owned(),
            next: self.plane.carried_next(next),
            error,
        };
        let mut response = page_with(status, &view)?;
        if let Some(cookie) = set_cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(response)
    }
}

/// The sign-in page of the route's plane.
pub async fn login_page(
    visitor: Visitor,
    AlreadySignedIn(signed_in): AlreadySignedIn,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if signed_in {
        return Ok(Redirect::to(&visitor.plane.safe_next(opt(&q.next))).into_response());
    }
    visitor
        .page(StatusCode::OK, "", opt(&q.next), String::new())
        .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The visitor's sign-in to the route's plane.
pub async fn login(
    visitor: Visitor,
    session: Session,
    ClientIp(ip): ClientIp,
    SignedForm(form): SignedForm<LoginForm>,
) -> Result<Response, WebError> {
    let (state, plane) = (&visitor.state, visitor.plane);
    let accounts = state.app.accounts();
    let outcome = accounts.sign_in(plane, &ip, &form.email, &form.password);
    let outcome = outcome.await?;
    let status = match &outcome {
        SignInOutcome::SignedIn(who) => {
            begin(&session, plane, who.id()).await?;
            return Ok(Redirect::to(&plane.safe_next(opt(&form.next))).into_response());
        }
        SignInOutcome::Failed => StatusCode::UNPROCESSABLE_ENTITY,
        SignInOutcome::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        SignInOutcome::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
    };
    let (error, retry_after) = outcome.refusal(state.app.clock.now());
    let next = opt(&form.next);
    let response = visitor.page(status, form.email.trim(), next, error).await?;
    Ok(match retry_after {
        Some(secs) => with_retry_after(response, secs),
        None => response,
    })
}

/// Signs out of the route's plane.
pub async fn logout(
    route: RouteInfo,
    session: Session,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    end(&session).await?;
    Ok(Redirect::to(&format!("{}/login", route.plane.root())).into_response())
}
