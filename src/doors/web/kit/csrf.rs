//! The form token of a visitor nobody has signed in yet (the sign-in
//! forms): the page carries it in `_token` and the cookie
//! `tenantatlas_csrf` holds the same value, a signed double submit
//! ([`crate::accounts::form_tokens`]). A signed-in session keeps its own
//! token.

use axum::http::{HeaderMap, HeaderValue};
use tower_sessions::cookie::{Cookie, SameSite};

use super::cookies::cookie_value;
use super::error::WebError;
use super::state::WebState;

/// The cookie holding an anonymous visitor's token, shared by both planes.
pub const CSRF_COOKIE: &str = "tenantatlas_csrf";

/// The token of a sign-in page: the visitor's cookie when this deployment
/// signed it, else a new one together with the `Set-Cookie` that hands it
/// over.
pub async fn anonymous_token(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), WebError> {
    let cookie = cookie_value(headers, CSRF_COOKIE);
    let accounts = state.app.accounts();
    let (token, new) = state.form_key.visitor_token(&accounts, cookie).await?;
    if !new {
        return Ok((token, None));
    }
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure())
        .build();
    let value = HeaderValue::from_str(&cookie.to_string()).map_err(|_| WebError::internal())?;
    Ok((token, Some(value)))
}
