//! The alerts pages: destinations (webhook URLs masked), rules, recent
//! deliveries, the add forms with what was typed, and delete confirmations.

use askama::Template;

use crate::alerts::rules::EVENTS;
use crate::alerts::{DestinationView, RuleView};
use crate::doors::web::kit::{Chrome, TimeTag};

/// What was typed into the alert forms, shown again with a 422.
/// The webhook URL is never among them: it is a secret.
#[derive(Debug, Clone, Default)]
pub struct AlertForms {
    pub destination_kind: String,
    pub destination_name: String,
    pub recipients: String,
    pub rule_name: String,
    pub rule_event: String,
    pub rule_severity: String,
    pub rule_cooldown: String,
    pub rule_quiet_hours: String,
    pub rule_timezone: String,
    pub rule_destinations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DestinationRowView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub target: String,
    pub created_at: TimeTag,
    /// Checked in the rule form.
    pub checked: bool,
}

#[derive(Debug, Clone)]
pub struct RuleRowView {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown_seconds: i64,
    pub quiet_hours: String,
    pub destinations: String,
}

#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub id: i64,
    pub event: String,
    pub destination: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: TimeTag,
    pub sent_at: TimeTag,
}

/// The colour of a delivery's status.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "sent" => "ok",
        "failed" => "bad",
        "deferred" => "warn",
        "queued" => "queued",
        _ => "muted",
    }
}

/// A destination by id as rules and deliveries name it.
pub fn destination_name(destinations: &[DestinationView], id: i64) -> String {
    destinations
        .iter()
        .find(|d| d.id == id)
        .map(|d| format!("{} (#{id})", d.name))
        .unwrap_or_else(|| format!("#{id}"))
}

#[derive(Template)]
#[template(path = "system/alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub flash: String,
    pub error: String,
    pub destinations: Vec<DestinationRowView>,
    pub rules: Vec<RuleRowView>,
    pub deliveries: Vec<DeliveryView>,
    pub events: Vec<&'static str>,
    pub severities: Vec<&'static str>,
    pub forms: AlertForms,
}

impl AlertsPage {
    pub fn new(
        chrome: Chrome,
        (flash, error): (String, String),
        destinations: &[DestinationView],
        rules: &[RuleView],
        deliveries: Vec<DeliveryView>,
        forms: AlertForms,
    ) -> AlertsPage {
        AlertsPage {
            chrome,
            flash,
            error,
            destinations: destinations
                .iter()
                .map(|d| DestinationRowView {
                    id: d.id,
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    target: d.target.clone(),
                    created_at: TimeTag::at(&d.created_at),
                    checked: forms.rule_destinations.contains(&d.id.to_string()),
                })
                .collect(),
            rules: rules
                .iter()
                .map(|r| RuleRowView {
                    id: r.id,
                    name: r.name.clone(),
                    event: r.event.clone(),
                    min_severity: r.min_severity.clone(),
                    cooldown_seconds: r.cooldown_seconds,
                    quiet_hours: match (&r.quiet_hours, &r.timezone) {
                        (Some(w), Some(tz)) => format!("{w} {tz}"),
                        (Some(w), None) => w.clone(),
                        _ => "—".into(),
                    },
                    destinations: r
                        .destination_ids
                        .iter()
                        .map(|id| destination_name(destinations, *id))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            deliveries,
            events: EVENTS.to_vec(),
            severities: vec!["low", "medium", "high", "critical"],
            forms,
        }
    }
}

#[derive(Template)]
#[template(path = "system/alert_confirm.html")]
pub struct AlertConfirmPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub subject: String,
    pub explanation: &'static str,
    pub action: String,
    pub button: &'static str,
}
