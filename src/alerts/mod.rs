//! Failure notifications and alert routing (FR-009).
//!
//! When a run completes, its platform initiator gets an in-app notification;
//! a run that failed or partially failed emits `operation_run.failed` to the
//! dispatcher, which applies the workspace's rules (event, minimum severity,
//! cooldown, quiet hours) and queues one delivery per rule × destination.
//! Both are run-completion subscribers ([`dispatch`]). A run that succeeded
//! after its runbook and scope failed emits `operation_run.recovered`, and a
//! throttled sign-in key `auth.login_throttled` ([`lockout`]); every event
//! goes through one intake ([`intake`]). Workers send
//! deliveries with retries and backoff ([`delivery`]); nothing is sent from
//! the run's own job.

pub mod channels;
pub mod delivery;
pub mod delivery_service;
pub mod dispatch;
pub mod drafts;
pub mod egress;
pub mod intake;
pub mod lockout;
pub mod message;
pub mod rule_service;
pub mod service;
pub mod values;
pub mod views;

pub use channels::Sender;
pub use delivery::{DELIVERY_JOB, DeliveryArgs, DeliveryJobHandler};
pub use dispatch::{AlertDispatcher, InitiatorNotifier};
pub use drafts::{DestinationDraft, RuleChoices, RuleDraft};
pub use egress::EgressPolicy;
pub use lockout::LockoutAlerts;
pub use message::AlertMessage;
pub use service::AlertService;
pub use values::{
    Channel, LOGIN_THROTTLED_EVENT, QuietHours, RUN_FAILED_EVENT, RUN_RECOVERED_EVENT, Severity,
};
pub use views::{
    AlertsOverview, DeliveryPage, DeliveryView, DestinationRequest, DestinationView, RuleRequest,
    RuleView,
};

/// What alerts need from the environment.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// `TENANTATLAS_PUBLIC_URL`: absolute links in messages.
    pub public_url: String,
    /// `SMTP_URL`, e.g. `smtp://127.0.0.1:25` or `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    /// `TENANTATLAS_MAIL_FROM`.
    pub mail_from: String,
    /// Bound on one send (HTTP request or SMTP session).
    pub timeout_ms: u64,
    /// Where webhooks may go (`TENANTATLAS_WEBHOOK_ALLOWED_HOSTS`).
    pub webhook_policy: EgressPolicy,
}

impl AlertSettings {
    /// The one HTTP client of webhooks: no redirects (a 3xx is an answer, not
    /// a new target), no proxy from the environment (a proxy would resolve
    /// the name itself, past the policy), and a resolver that applies the
    /// egress policy.
    pub fn http_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(self.webhook_policy.resolver())
            .build()
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            public_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            mail_from: "TenantAtlas Ops <ops@tenantatlas.localhost>".into(),
            timeout_ms: 10_000,
            webhook_policy: EgressPolicy::default(),
        }
    }
}
