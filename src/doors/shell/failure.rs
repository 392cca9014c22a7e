//! A command's failure and the exit code it earns: 2 for bad usage or bad
//! input (a value against its rule, a name that names nothing), 1 for
//! everything else (a missing run, a refused state, a failed database). Only the first line of the message is shown.

use std::process::ExitCode;

use crate::app::ConnectError;
use crate::error::Error;

#[derive(Debug)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad usage or bad input: exit 2.
    pub fn bad_input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Anything else that went wrong: exit 1.
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Writes the one-line reason to stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!(
            "tenantatlas: {}",
            self.message.lines().next().unwrap_or_default()
        );
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if e.is_bad_input() {
            Failure::bad_input(e.to_string())
        } else if e.is_caller_error() {
            Failure::failed(e.to_string())
        } else {
            tracing::error!(error = %e.detail(), "command failed");
            Failure::failed(e.detail())
        }
    }
}

/// A malformed database URL is the caller's fault; an unreachable database
/// or a failed migration is not.
impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        if matches!(e, ConnectError::BadUrl(_)) {
            Failure::bad_input(e.to_string())
        } else {
            Failure::failed(e.to_string())
        }
    }
}
