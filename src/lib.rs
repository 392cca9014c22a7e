//! TenantAtlas Ops: the platform-operations runbook system.
//!
//! - [`accounts`]: operators and customer users, passwords, login throttling
//! - [`domain`]: workspaces, tenants, findings, capabilities, checked values
//! - [`runs`]: operation runs and the OperationRunService
//! - [`runbooks`]: the registry, one module per runbook, and the runbook
//!   service every door calls
//! - [`queue`]: the durable job queue's workers
//! - [`alerts`]: notifications and alert routing of completed runs
//! - [`console`]: the console's reads (notifications, audit log, findings) and demo data
//! - [`storage`]: the database seam (SQLite and PostgreSQL)
//! - [`doors`]: the web console, the CLI, the deploy hook

pub mod accounts;
pub mod alerts;
pub mod app;
pub mod clock;
pub mod console;
pub mod domain;
pub mod doors;
pub mod error;
pub mod queue;
pub mod runbooks;
pub mod runs;
pub mod storage;
pub mod telemetry;
