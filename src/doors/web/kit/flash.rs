//! The one-time message a control leaves for the page it sends the operator
//! back to ("Run 7 paused", "Rule saved"). Hand-written over tower-sessions
//! rather than `axum-messages`, whose layer reads the session on every
//! request (docs/decisions.md).

use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::error::WebError;

const KEY: &str = "flash";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Flash {
    pub error: bool,
    pub message: String,
}

impl Flash {
    pub fn info(message: impl Into<String>) -> Flash {
        Flash {
            error: false,
            message: message.into(),
        }
    }

    pub fn error(message: impl Into<String>) -> Flash {
        Flash {
            error: true,
            message: message.into(),
        }
    }

    /// Leaves the message and sends the browser to `to`.
    pub async fn redirect(self, session: &Session, to: &str) -> Result<Response, WebError> {
        session.insert(KEY, self).await?;
        Ok(Redirect::to(to).into_response())
    }

    /// The message left for this page, once. Removing marks the session
    /// changed and saves it: only when there is something to take, so a
    /// plain page view writes nothing.
    pub async fn take(session: &Session) -> Option<Flash> {
        let flash = session.get::<Flash>(KEY).await.ok().flatten()?;
        let _ = session.remove::<Flash>(KEY).await;
        Some(flash)
    }
}
