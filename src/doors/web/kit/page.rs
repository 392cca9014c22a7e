//! Rendering pages, and the chrome every signed-in page shows around its
//! content (who is signed in, the sections they may see, the bell).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tower_sessions::Session;

use super::error::WebError;
use super::state::WebState;
use crate::accounts::sessions::session_token;
use crate::accounts::{CustomerIdentity, OperatorIdentity};
use crate::domain::Capability;

/// Renders a template as an HTML response.
pub fn page<T: Template>(t: &T) -> Result<Response, WebError> {
    page_with(StatusCode::OK, t)
}

pub fn page_with<T: Template>(status: StatusCode, t: &T) -> Result<Response, WebError> {
    match t.render() {
        Ok(html) => Ok((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(WebError::internal())
        }
    }
}

/// Adds `Retry-After` to a response.
pub fn with_retry_after(mut response: Response, secs: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// What every signed-in page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub plane: &'static str,
    pub section: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub csrf: String,
    /// The bell's count of unread notifications.
    pub unread: i64,
    pub can_runbooks: bool,
    pub can_runs: bool,
    pub can_alerts: bool,
    pub workspace: String,
}

impl Chrome {
    /// The chrome of a `/system` page.
    pub async fn operator(
        state: &WebState,
        op: &OperatorIdentity,
        session: &Session,
        section: &'static str,
    ) -> Result<Chrome, WebError> {
        // Side by side: the session's first read and the bell's count.
        let notifications = state.app.notifications();
        let unread = notifications.unread_count(op);
        let (csrf, unread) = tokio::try_join!(session_token(session), unread)?;
        Ok(Chrome {
            plane: "system",
            section,
            user_name: op.name.clone(),
            user_email: op.email.clone(),
            csrf,
            unread,
            can_runbooks: op.can(Capability::RUNBOOKS_VIEW),
            can_runs: op.can(Capability::OPERATIONS_VIEW),
            can_alerts: op.can(Capability::ALERTS_MANAGE),
            workspace: String::new(),
        })
    }

    /// The chrome of an `/admin` page.
    pub async fn customer(
        state: &WebState,
        c: &CustomerIdentity,
        session: &Session,
        section: &'static str,
    ) -> Result<Chrome, WebError> {
        Ok(Chrome {
            plane: "admin",
            section,
            user_name: c.name.clone(),
            user_email: c.email.clone(),
            csrf: session_token(session).await?,
            workspace: state.app.customer().workspace_name(c).await?,
            ..Chrome::default()
        })
    }
}
