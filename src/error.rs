//! The service's errors. Each door maps them once: HTTP status, CLI exit code.
//! What a user reads is the `Display` text; storage detail is only logged.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong (HTTP 422, CLI exit 2).
    #[error("{0}")]
    BadInput(String),
    /// A name the caller typed (a runbook key, a tenant's external id, a
    /// workspace slug) names nothing: a typo, so bad input (HTTP 404, CLI
    /// exit 2). The message lists what exists where it can.
    #[error("{0}")]
    Unknown(String),
    /// The thing an id addresses does not exist (HTTP 404, CLI exit 1).
    #[error("{0}")]
    NotFound(String),
    /// The actor lacks a capability (HTTP 403, CLI exit 1).
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The thing exists but is in the wrong state for this (HTTP 409, CLI exit 1).
    #[error("{0}")]
    Conflict(String),
    #[error("database error")]
    Storage(#[from] sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<tower_sessions::session::Error> for Error {
    fn from(e: tower_sessions::session::Error) -> Error {
        Error::Internal(anyhow::Error::new(e).context("session store failed"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the caller, not the system, is at fault.
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            Error::BadInput(_)
                | Error::Unknown(_)
                | Error::NotFound(_)
                | Error::Forbidden(_)
                | Error::Conflict(_)
        )
    }

    /// Whether the caller's words themselves are wrong (bad usage, a value
    /// against its rule, a name that names nothing): CLI exit 2. A missing
    /// run, a refused state or a missing capability is not: exit 1.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::BadInput(_) | Error::Unknown(_))
    }

    /// The full chain, for logs.
    pub fn detail(&self) -> String {
        match self {
            Error::Storage(e) => format!("database error: {e}"),
            Error::Internal(e) => format!("internal error: {e:#}"),
            other => other.to_string(),
        }
    }
}
