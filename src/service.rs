//! Transitional paths of the runbook service (now `runbooks::service`).

pub use crate::domain::Actor;
pub use crate::runbooks::service::*;
