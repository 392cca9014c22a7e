//! Errors of the web door, mapped once to a status and a page or JSON body.
//! Internal detail is logged, never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::views;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub message: String,
    pub format: Format,
    pub retry_after_secs: Option<i64>,
}

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
            format: Format::Html,
            retry_after_secs: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn forbidden(message: impl Into<String>) -> WebError {
        WebError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn json(mut self) -> WebError {
        self.format = Format::Json;
        self
    }

    pub fn in_format(mut self, format: Format) -> WebError {
        self.format = format;
        self
    }
}

impl From<Error> for WebError {
    fn from(e: Error) -> WebError {
        let status = match &e {
            Error::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Storage(_) | Error::Internal(_) => {
                tracing::error!(error = %e.detail(), "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        WebError::new(status, e.to_string())
    }
}

impl From<sqlx::Error> for WebError {
    fn from(e: sqlx::Error) -> WebError {
        Error::from(e).into()
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(e: tower_sessions::session::Error) -> WebError {
        tracing::error!(error = %e, "session store failed");
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut response = match self.format {
            Format::Json => (
                self.status,
                Json(serde_json::json!({ "error": self.message })),
            )
                .into_response(),
            Format::Html => (
                self.status,
                Html(views::error_page(self.status, &self.message)),
            )
                .into_response(),
        };
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Whether a path belongs to the JSON API (answers in JSON, never redirects).
pub fn is_api(path: &str) -> bool {
    path == "/system/api" || path.starts_with("/system/api/")
}

/// The one "does not exist" answer: for unknown paths and for a session of
/// the wrong plane alike (SR-002), so the two cannot be told apart.
pub fn not_found(path: &str) -> Response {
    let e = WebError::new(StatusCode::NOT_FOUND, "There is no page at this address.");
    if is_api(path) {
        e.json().into_response()
    } else {
        e.into_response()
    }
}

pub async fn fallback(uri: Uri) -> Response {
    not_found(uri.path())
}
