//! The lockout alert: a sign-in key refused by the throttle, told once per
//! key and window by the account service, becomes `auth.login_throttled`
//! for the alert rules of the workspace — with the plane, the client
//! address and the masked email, never a password.

use std::sync::Arc;

use async_trait::async_trait;

use crate::accounts::{LoginThrottled, ThrottleSubscriber};
use crate::alerts::AlertSettings;
use crate::alerts::intake::{self, AlertEvent, fingerprint};
use crate::alerts::message::AlertMessage;
use crate::alerts::values::{LOGIN_THROTTLED_EVENT, Severity};
use crate::error::Result;
use crate::storage::{Db, directory};

/// How serious a throttled key is: someone may be guessing passwords.
pub const LOCKOUT_SEVERITY: Severity = Severity::Medium;

/// Hands throttled sign-in keys to the alert rules.
pub struct LockoutAlerts {
    pub db: Db,
    pub settings: Arc<AlertSettings>,
    /// Attempts of a delivery job.
    pub max_attempts: i64,
}

#[async_trait]
impl ThrottleSubscriber for LockoutAlerts {
    async fn login_throttled(&self, e: &LoginThrottled) -> Result<()> {
        // Alert rules belong to the workspace the service runs for.
        let workspace_id = directory::default_workspace(&self.db).await?.id;
        let message = lockout_message(e, &self.settings.public_url);
        let plane = e.plane.as_str();
        let alert = AlertEvent {
            workspace_id,
            event: LOGIN_THROTTLED_EVENT,
            severity: LOCKOUT_SEVERITY,
            key: format!(
                "{LOGIN_THROTTLED_EVENT}:{}:{}",
                e.key,
                e.at.timestamp_millis()
            ),
            fingerprint: fingerprint(&format!("{LOGIN_THROTTLED_EVENT}|{plane}|{}", e.ip)),
            run_id: None,
            message: &message,
        };
        let mut tx = self.db.begin().await?;
        intake::emit(&mut tx, &alert, self.max_attempts, e.at).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What the Teams card and the email say of a throttled key.
pub fn lockout_message(e: &LoginThrottled, public_url: &str) -> AlertMessage {
    let plane = e.plane.as_str();
    let whom = match &e.email_masked {
        Some(email) => format!(" for {email}"),
        None => String::new(),
    };
    let limit = match e.limit {
        "ip" => "per client address",
        _ => "per client address and email",
    };
    let audit = format!("{}/system/audit", public_url.trim_end_matches('/'));
    let mut facts = vec![
        ("Plane".to_owned(), format!("/{plane}")),
        ("Client address".to_owned(), e.ip.clone()),
        (
            "Limit".to_owned(),
            format!("{} a minute {limit}", e.attempts_allowed),
        ),
        (
            "Refused for".to_owned(),
            format!("{} s", e.retry_after_secs),
        ),
        ("Severity".to_owned(), LOCKOUT_SEVERITY.as_str().to_owned()),
    ];
    if let Some(email) = &e.email_masked {
        facts.insert(2, ("Email".to_owned(), email.clone()));
    }
    AlertMessage {
        title: format!("Sign-in throttled on /{plane} from {}", e.ip),
        summary: format!(
            "More than {} sign-in attempts a minute from {}{whom} on /{plane}; further attempts are refused for {} s.",
            e.attempts_allowed, e.ip, e.retry_after_secs
        ),
        runbook: "-".into(),
        scope: format!("/{plane} sign-in"),
        outcome: "throttled".into(),
        severity: LOCKOUT_SEVERITY.as_str().into(),
        counts: vec![],
        failures: vec![],
        url: audit.clone(),
        facts,
        links: vec![("View audit log".into(), audit)],
    }
}
