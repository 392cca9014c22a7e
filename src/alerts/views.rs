//! Alert routing as doors show it and send it: destinations with their
//! webhook URL masked, rules, deliveries, the alerts page's reads with each
//! rule and destination named, and a rule as a door received it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::storage::alerts::Delivery;

/// A delivery as every door shows it (`alerts deliveries list --json`,
/// Appendix A).
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    pub rule_id: Option<i64>,
    pub destination_id: Option<i64>,
    pub event: String,
    /// `queued`, `sent`, `suppressed`, `deferred` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// When a deferred delivery goes out.
    pub deliver_after: Option<DateTime<Utc>>,
    /// The run whose event it tells of.
    pub run_id: Option<i64>,
    /// Why it was not sent (cooldown, a disabled destination).
    pub suppressed_reason: Option<String>,
    /// When the next attempt is due, while it waits in the queue.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl DeliveryView {
    /// How a test message went, as told to whoever sent it: sent, or the
    /// error that kept it from being sent.
    pub fn test_told(&self) -> std::result::Result<String, String> {
        match self.status.as_str() {
            "sent" => Ok(format!("Test message sent (delivery {}).", self.id)),
            _ => Err(format!(
                "The test message could not be sent (delivery {}): {}",
                self.id,
                self.last_error.as_deref().unwrap_or("unknown error")
            )),
        }
    }
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> DeliveryView {
        DeliveryView {
            id: d.id,
            rule_id: d.rule_id,
            destination_id: d.destination_id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: d.created_at,
            sent_at: d.sent_at,
            deliver_after: d.deliver_after,
            run_id: d.run_id,
            suppressed_reason: d.suppressed_reason,
            next_attempt_at: None,
        }
    }
}

/// A destination as shown: the webhook URL masked.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationView {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    pub created_at: DateTime<Utc>,
    /// A disabled destination is sent nothing.
    pub enabled: bool,
    /// Why it cannot be sent to as it is (an email destination while
    /// `SMTP_URL` is not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown_seconds: i64,
    pub quiet_hours: Option<String>,
    pub timezone: Option<String>,
    pub destination_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
    /// A disabled rule matches no event.
    pub enabled: bool,
}

impl DestinationView {
    /// What was done to it, as told to whoever did it.
    pub fn told(&self, done: &str) -> String {
        format!("Destination {:?} {done}.", self.name)
    }

    /// What enabling (`on`) or disabling it did.
    pub fn switched(&self, on: bool) -> String {
        self.told(match on {
            true => "enabled",
            false => "disabled: it is sent nothing until enabled",
        })
    }

    /// What adding it did, with the warning it was saved with.
    pub fn added(&self) -> String {
        let told = self.told(&format!("({}) added", self.kind));
        match &self.warning {
            Some(w) => format!("{told} Note: {w}."),
            None => told,
        }
    }

    /// The destination in one line, as a confirmation names it.
    pub fn summary(&self) -> String {
        format!("{} ({}, {})", self.name, self.kind, self.target)
    }
}

impl RuleView {
    /// What was done to it, as told to whoever did it.
    pub fn told(&self, done: &str) -> String {
        format!("Rule {:?} {done}.", self.name)
    }

    /// What enabling (`on`) or disabling it did.
    pub fn switched(&self, on: bool) -> String {
        self.told(match on {
            true => "enabled",
            false => "disabled: it matches no event until enabled",
        })
    }

    /// The rule in one line, as a confirmation names it.
    pub fn summary(&self) -> String {
        format!(
            "{} ({}, {} and above)",
            self.name, self.event, self.min_severity
        )
    }

    /// The quiet hours with their time zone, or `—`.
    pub fn quiet_hours_text(&self) -> String {
        match (&self.quiet_hours, &self.timezone) {
            (Some(w), Some(tz)) => format!("{w} {tz}"),
            (Some(w), None) => w.clone(),
            _ => "—".into(),
        }
    }
}

/// Destinations, rules and a page of deliveries, read together to be shown
/// together: rules and deliveries name the destinations and rules by these.
#[derive(Debug, Clone)]
pub struct AlertsOverview {
    pub destinations: Vec<DestinationView>,
    pub rules: Vec<RuleView>,
    pub deliveries: DeliveryPage,
    /// Attempts a delivery gets before it fails.
    pub max_attempts: i64,
}

impl AlertsOverview {
    /// A delivery's state in words: a waiting retry says which attempt
    /// comes and why the last one failed.
    pub fn state_words(&self, d: &DeliveryView) -> String {
        let error = d.last_error.as_deref().unwrap_or("unknown error");
        match d.status.as_str() {
            "queued" if d.attempts > 0 => format!(
                "retrying (attempt {} of {}): last error {error}",
                d.attempts + 1,
                self.max_attempts
            ),
            "failed" if d.attempts > 0 => format!(
                "failed after {} of {} attempts: {error}",
                d.attempts, self.max_attempts
            ),
            other => other.to_owned(),
        }
    }

    /// Some delivery still waits to go out (the page refreshes itself).
    pub fn pending(&self) -> bool {
        let waiting = |d: &DeliveryView| matches!(d.status.as_str(), "queued" | "deferred");
        self.deliveries.items.iter().any(waiting)
    }

    /// The destination's most recent delivery on the page failed (or is
    /// being retried after a failure).
    pub fn failing(&self, destination_id: &i64) -> bool {
        let latest = self
            .deliveries
            .items
            .iter()
            .filter(|d| d.destination_id == Some(*destination_id));
        latest
            .max_by_key(|d| d.id)
            .is_some_and(|d| d.status == "failed" || (d.status == "queued" && d.attempts > 0))
    }

    /// A destination by id as rules and deliveries name it.
    pub fn destination_name(&self, id: &i64) -> String {
        let found = self.destinations.iter().find(|d| d.id == *id);
        found.map_or_else(|| format!("#{id}"), |d| format!("{} (#{id})", d.name))
    }

    /// A rule's destinations by name.
    pub fn destinations_of(&self, r: &RuleView) -> String {
        let names: Vec<String> = r
            .destination_ids
            .iter()
            .map(|id| self.destination_name(id))
            .collect();
        names.join(", ")
    }

    /// A delivery's rule by name, and its id while it exists (else 0: no link).
    pub fn rule_of(&self, d: &DeliveryView) -> (String, i64) {
        let Some(id) = d.rule_id else {
            let name = if d.event == "alert.test" {
                "test message"
            } else {
                "deleted"
            };
            return (name.into(), 0);
        };
        match self.rules.iter().find(|r| r.id == id) {
            Some(r) => (r.name.clone(), id),
            None => (format!("#{id}"), 0),
        }
    }
}

/// A rule as a door received it, before checks.
#[derive(Debug, Clone, Default)]
pub struct RuleRequest {
    pub name: String,
    pub event: String,
    pub destination_ids: Vec<i64>,
    pub min_severity: Option<String>,
    pub cooldown_seconds: Option<i64>,
    pub quiet_hours: Option<String>,
    pub timezone: Option<String>,
}

/// A destination as a form sent it, before checks. An empty URL when
/// editing a Teams destination keeps the saved one.
#[derive(Debug, Clone, Default)]
pub struct DestinationRequest {
    pub kind: String,
    pub name: String,
    pub url: String,
    pub recipients: Vec<String>,
}

/// One numbered page of deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub spot: crate::domain::PageSpot,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: i64, status: &str, attempts: i64, error: Option<&str>) -> DeliveryView {
        DeliveryView {
            id,
            rule_id: Some(1),
            destination_id: Some(7),
            event: "operation_run.failed".into(),
            status: status.into(),
            attempts,
            last_error: error.map(str::to_owned),
            created_at: DateTime::<Utc>::MIN_UTC,
            sent_at: None,
            deliver_after: None,
            run_id: None,
            suppressed_reason: None,
            next_attempt_at: None,
        }
    }

    fn overview(items: Vec<DeliveryView>) -> AlertsOverview {
        AlertsOverview {
            destinations: vec![],
            rules: vec![],
            deliveries: DeliveryPage {
                items,
                spot: crate::domain::PageSpot::clamp(1, 25, 2),
            },
            max_attempts: 5,
        }
    }

    #[test]
    fn a_retried_delivery_says_which_attempt_comes_and_why() {
        let error = "Teams webhook https://h/… answered HTTP 429: slow down";
        let retrying = delivery(2, "queued", 2, Some(error));
        let o = overview(vec![delivery(1, "sent", 1, None), retrying.clone()]);
        assert_eq!(
            o.state_words(&retrying),
            format!("retrying (attempt 3 of 5): last error {error}")
        );
        assert_eq!(o.state_words(&delivery(3, "sent", 1, None)), "sent");
        assert!(o.pending(), "a queued delivery: the page refreshes");
        assert!(o.failing(&7), "its latest delivery is being retried");
        let fine = overview(vec![
            delivery(1, "failed", 5, Some("x")),
            delivery(2, "sent", 1, None),
        ]);
        assert!(!fine.failing(&7), "the latest went out");
        assert!(!fine.pending());
    }
}
