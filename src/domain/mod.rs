//! The domain's words: workspaces, tenants, findings, capabilities, and the
//! values that have rules (parsed at the edge, trusted inside).

pub mod actor;
pub mod capability;
pub mod csv_export;
pub mod field;
pub mod figures;
pub mod job;
pub mod paging;
pub mod run;
pub mod run_controls;
pub mod run_progress;
pub mod run_tenants;
pub mod run_words;
pub mod text;
pub mod values;

pub use actor::{Actor, AuditEntry};
pub use capability::{Capability, CapabilitySet};
pub use field::{Checked, Invalid};
pub use job::{JobKind, JobStatus};
pub use paging::{Numbered, PageSpot};
pub use text::TextKind;
pub use values::{Email, Reason, RunbookKey, TenantExternalId};

/// The workspace v1 runbooks act on (seed decision 3).
pub const DEFAULT_WORKSPACE_SLUG: &str = "default";
/// The tenant that is always present in the default workspace.
pub const PLATFORM_TENANT_EXTERNAL_ID: &str = "platform";

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Workspace {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: i64,
    pub workspace_id: i64,
    pub external_id: String,
    pub name: String,
}
