//! Form and query input: strict UTF-8, a clear 4xx for anything malformed,
//! and the CSRF token (`_token`) checked against the plane's session, or
//! for a visitor not signed in against their signed token cookie.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::cookies::cookie_value;
use super::csrf::CSRF_COOKIE;
use super::error::WebError;
use super::state::WebState;
use crate::error::Result;

/// Decodes `application/x-www-form-urlencoded` strictly: bad percent
/// escapes or bytes that are not UTF-8 are refused, never replaced, and so
/// is a NUL character in any field.
pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, WebError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| WebError::bad_request("The form is not valid UTF-8."))?;
    let mut pairs = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (decode_component(k)?, decode_component(v)?);
        refuse_nul(&k, &v)?;
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// No kind of text allows a NUL (and PostgreSQL cannot store one), so it is
/// refused for every field at once, as the field's own rule would (422),
/// naming the field; each field's full rule is its service's.
fn refuse_nul(key: &str, value: &str) -> Result<(), WebError> {
    if !key.contains('\0') && !value.contains('\0') {
        return Ok(());
    }
    let plain_name = key.len() <= 64
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let field = if plain_name { key } else { "form field name" };
    Err(WebError::unprocessable(format!(
        "{field}: must not contain control characters"
    )))
}

/// One name or value: `+` is a space, every `%` starts two hex digits, and
/// the bytes decoded are UTF-8.
fn decode_component(s: &str) -> Result<String, WebError> {
    let hex = |rest: &str| {
        rest.get(..2)
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if !s.split('%').skip(1).all(hex) {
        let message = "The form has a malformed percent escape.";
        return Err(WebError::bad_request(message));
    }
    let spaced = s.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8();
    decoded
        .map(|text| text.into_owned())
        .map_err(|_| WebError::bad_request("The form is not valid UTF-8."))
}

/// A checked form: the body decoded strictly and `_token` equal to the
/// session's CSRF token (someone signed in) or to the visitor's signed
/// token cookie (the sign-in forms).
pub struct SignedForm<T>(pub T);

/// A form with nothing but its token (sign-out, mark read, deletes); on
/// the API, `{}` (a field there is refused, see `JsonBody`).
pub type TokenOnly = serde::de::IgnoredAny;

impl<T: DeserializeOwned> FromRequest<WebState> for SignedForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let session = req.extensions().get::<Session>().cloned();
        let headers = req.headers().clone();
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(WebError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send this form as application/x-www-form-urlencoded.",
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WebError::too_large()
            } else {
                WebError::bad_request("The request body could not be read.")
            }
        })?;
        let pairs = decode_form(&body)?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_token")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let (cookie, accounts) = (cookie_value(&headers, CSRF_COOKIE), state.app.accounts());
        let checked = state
            .form_key
            .form_token_ok(&accounts, session.as_ref(), cookie, sent);
        if !checked.await? {
            return Err(WebError::forbidden(
                "This form's security token is missing or out of date. Reload the page and try again.",
            ));
        }
        let value = serde_urlencoded::from_bytes::<T>(&body).map_err(|e| {
            WebError::unprocessable(format!("The form is incomplete or malformed: {e}."))
        })?;
        Ok(SignedForm(value))
    }
}

/// A query string decoded with a clear 400 instead of axum's plain rejection.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        decode_form(q.as_bytes())?;
        serde_urlencoded::from_str::<T>(q)
            .map(Query)
            .map_err(|e| WebError::bad_request(format!("The query string is malformed: {e}.")))
    }
}

/// An optional text field: blank means absent.
pub fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The most pages a list pages through.
pub const MAX_PAGE: i64 = 1_000_000;

/// A query's text field, trimmed, absent when blank. It serializes as it
/// was read (absent fields left out), so a query struct of these feeds the
/// pager's links and the templates without naming its fields again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(from = "Option<String>")]
pub struct Text(Option<String>);

impl Text {
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn as_str(&self) -> &str {
        self.get().unwrap_or("")
    }

    pub fn owned(&self) -> Option<String> {
        self.0.clone()
    }

    /// The page asked for: blank is the first; a page past the last shows
    /// the last (the list clamps it), but a page that is no page number
    /// (`abc`, `-1`, `10^12`) is bad input on every list, as on a run's
    /// tenants (422).
    pub fn page(&self) -> crate::error::Result<i64> {
        let Some(v) = self.get().map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(1);
        };
        match v.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(crate::error::Error::BadInput(format!(
                "page must be a whole number from 1 to {MAX_PAGE}, not {:?}",
                v.chars().take(40).collect::<String>()
            ))),
        }
    }
}

impl From<&str> for Text {
    fn from(v: &str) -> Text {
        Text(Some(v.to_owned()).filter(|v| !v.is_empty()))
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read trimmed, blank as absent.
impl From<Option<String>> for Text {
    fn from(v: Option<String>) -> Text {
        Text(v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
    }
}

/// The query of a list with nothing but pages.
#[derive(Deserialize)]
pub struct PageQuery {
    pub page: Text,
}
