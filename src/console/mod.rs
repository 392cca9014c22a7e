//! Console reads: what the operator console and the customer plane show
//! beside the runbook service (notifications, the audit log, tenants to pick,
//! a workspace's findings and runs), the process's readiness and gauges, and
//! the demo data of `serve --demo`. Doors get ready-to-show items, checked
//! against the identity that asks.

pub mod audit;
pub mod customer;
pub mod demo;
pub mod items;
pub mod runs_view;
pub mod service;

pub use audit::{AUDIT_ACTIONS, AuditEntryView, AuditFilter, AuditPage};
pub use customer::FindingFilter;
pub use demo::{DEMO_OPERATOR_EMAIL, DemoData, DemoSeed, DemoSize, SeedReport};
pub use items::{FindingItem, NotificationItem, Page, Paged, TenantChoice};
pub use runs_view::{FailureGroup, RecentFailures, RunList, RunListFilter};
pub use service::ConsoleService;
