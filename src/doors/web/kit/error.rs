//! Errors of the web door, mapped once to a status. The body (an error page
//! or JSON) is chosen once per route group: a handler's error leaves here
//! without a body and the route guard gives it its group's format.
//! Internal detail is logged, never shown.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::state::MAX_BODY_BYTES;
use crate::error::Error;

/// How a route group answers: pages or the JSON API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
}

#[derive(Debug)]
pub struct WebError {
    pub status: StatusCode,
    pub message: String,
    /// Set only where no route group decides (before routing, the guard's own answers).
    format: Option<Format>,
}

/// An error response still waiting for its body.
#[derive(Debug, Clone)]
struct Unrendered(String);

impl WebError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> WebError {
        WebError {
            status,
            message: message.into(),
            format: None,
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

    /// A body over [`MAX_BODY_BYTES`] (413).
    pub fn too_large() -> WebError {
        let kib = MAX_BODY_BYTES / 1024;
        let message = format!("The request body is larger than {kib} KiB.");
        WebError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    pub fn internal() -> WebError {
        WebError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    /// Answers in this format whatever the route group's.
    pub fn in_format(mut self, format: Format) -> WebError {
        self.format = Some(format);
        self
    }
}

impl From<Error> for WebError {
    fn from(e: Error) -> WebError {
        let status = match &e {
            Error::BadInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Unknown(_) | Error::NotFound(_) => StatusCode::NOT_FOUND,
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

impl From<tower_sessions::session::Error> for WebError {
    fn from(e: tower_sessions::session::Error) -> WebError {
        tracing::error!(error = %e, "session store failed");
        WebError::internal()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self.format {
            Some(format) => render(self.status, &self.message, format),
            None => {
                let mut response = self.status.into_response();
                response.extensions_mut().insert(Unrendered(self.message));
                response
            }
        }
    }
}

fn render(status: StatusCode, message: &str, format: Format) -> Response {
    match format {
        Format::Json => (status, Json(serde_json::json!({ "error": message }))).into_response(),
        Format::Html => (status, Html(error_page(status, message))).into_response(),
    }
}

/// Gives an error response without a body its body in `format`; any other
/// response passes unchanged.
pub fn finish(response: Response, format: Format) -> Response {
    match response.extensions().get::<Unrendered>() {
        Some(Unrendered(message)) => render(response.status(), message, format),
        None => response,
    }
}

/// The message of an error response still waiting for its body.
pub fn unrendered_message(response: &Response) -> Option<String> {
    response
        .extensions()
        .get::<Unrendered>()
        .map(|Unrendered(m)| m.clone())
}

/// The format of a path outside any route group: the JSON API's paths
/// answer in JSON (and never redirect), all others with pages.
pub fn format_of(path: &str) -> Format {
    match path == "/system/api" || path.starts_with("/system/api/") {
        true => Format::Json,
        false => Format::Html,
    }
}

const NO_PAGE: &str = "There is no page at this address.";

/// The one "does not exist" answer: for unknown paths and for a session of
/// the wrong plane alike (SR-002), so the two cannot be told apart.
pub fn not_found(path: &str) -> Response {
    finish(not_found_unrendered(), format_of(path))
}

/// The same answer, its body still to be given (`error_page::missing`).
pub fn not_found_unrendered() -> Response {
    WebError::new(StatusCode::NOT_FOUND, NO_PAGE).into_response()
}

#[derive(Template)]
#[template(path = "shared/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

fn error_page(status: StatusCode, message: &str) -> String {
    let t = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message,
    };
    t.render()
        .unwrap_or_else(|_| format!("{} {}", status.as_u16(), message))
}
