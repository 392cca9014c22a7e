//! The read services of the console and the customer plane, one per thing
//! they read: the bell (`notifications`), run lists and the tenants to pick
//! (`run_lists`), the audit log (`audit`), the customer plane (`customer`),
//! and beside them the process's readiness and gauges (`health`) and the
//! demo data of `serve --demo` (`demo`). Doors get ready-to-show items
//! (`items`), checked against the identity that asks.

pub mod audit;
pub mod customer;
pub mod demo;
pub mod health;
pub mod items;
pub mod notifications;
pub mod run_lists;

pub use audit::{AUDIT_ACTIONS, AuditEntryView, AuditFilter, AuditLogService, AuditPage};
pub use customer::{CustomerService, FindingFilter};
pub use demo::{DEMO_OPERATOR_EMAIL, DemoData, DemoSeed, DemoService, DemoSize, SeedReport};
pub use health::HealthService;
pub use items::{FindingItem, NotificationItem, Page, Paged, TenantChoice};
pub use notifications::NotificationService;
pub use run_lists::{FailureGroup, RecentFailures, RunList, RunListFilter, RunListService};
