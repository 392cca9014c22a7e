//! The alerts pages: destinations (webhook URLs masked) and rules with
//! their state, the add and edit forms with what was typed and each error
//! beside its field, and numbered pages of deliveries.

use askama::Template;

use super::forms::{DestinationForm, RuleFields};
use crate::alerts::values::{EVENTS, cooldown_words, time_zones};
use crate::alerts::{DeliveryView, DestinationView, RuleView};
use crate::domain::Invalid;
use crate::doors::web::kit::views::filters;
use crate::doors::web::kit::{Chrome, Flash, Pager};

/// Which form failed, and the field that is wrong in it.
#[derive(Debug, Clone)]
pub struct FormError {
    /// `teams`, `email`, `rule` or `destination` (an edit page's form).
    pub form: &'static str,
    pub invalid: Invalid,
}

fn error_in(error: &Option<FormError>, form: &str, field: &str) -> String {
    match error {
        Some(e) if e.form == form && e.invalid.field == field => e.invalid.message.clone(),
        _ => String::new(),
    }
}

/// What was typed into the alert forms, shown again with a 422.
#[derive(Debug, Clone, Default)]
pub struct AlertForms {
    pub teams: DestinationForm,
    pub email: DestinationForm,
    pub rule: RuleFields,
    pub error: Option<FormError>,
}

#[derive(Debug, Clone)]
pub struct RuleRowView {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown: String,
    pub quiet_hours: String,
    pub destinations: String,
    pub enabled: bool,
}

/// A delivery as the service tells it, with its rule and destination named.
#[derive(Debug, Clone)]
pub struct DeliveryRowView {
    pub d: DeliveryView,
    pub rule: String,
    /// The rule's id while it exists, else 0 (no link).
    pub rule_id: i64,
    pub destination: String,
}

impl DeliveryRowView {
    pub fn status_class(&self) -> &'static str {
        status_class(&self.d.status)
    }
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

impl DeliveryRowView {
    pub fn of(d: &DeliveryView, destinations: &[DestinationView], rules: &[RuleView]) -> Self {
        DeliveryRowView {
            rule: match d.rule_id {
                Some(id) => rules
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| format!("#{id}")),
                None if d.event == "alert.test" => "test message".into(),
                None => "deleted".into(),
            },
            rule_id: d
                .rule_id
                .filter(|id| rules.iter().any(|r| r.id == *id))
                .unwrap_or(0),
            destination: d
                .destination_id
                .map(|id| destination_name(destinations, id))
                .unwrap_or_else(|| "deleted".into()),
            d: d.clone(),
        }
    }
}

/// What the rule form offers (the add form and the edit page).
#[derive(Debug, Clone)]
pub struct RuleChoices {
    pub events: Vec<&'static str>,
    pub severities: Vec<&'static str>,
    pub time_zones: Vec<&'static str>,
}

impl Default for RuleChoices {
    fn default() -> Self {
        RuleChoices {
            events: EVENTS.to_vec(),
            severities: vec!["low", "medium", "high", "critical"],
            time_zones: time_zones(),
        }
    }
}

#[derive(Template)]
#[template(path = "system/alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub flash: Option<Flash>,
    pub destinations: Vec<DestinationView>,
    pub rules: Vec<RuleRowView>,
    pub deliveries: Vec<DeliveryRowView>,
    pub pager: Pager,
    pub choices: RuleChoices,
    pub forms: AlertForms,
    pub rule: RuleFields,
    pub rule_action: String,
    pub rule_button: &'static str,
    pub smtp_warning: String,
}

impl AlertsPage {
    pub fn error_of(&self, form: &str, field: &str) -> String {
        error_in(&self.forms.error, form, field)
    }

    pub fn rules_of(rules: &[RuleView], destinations: &[DestinationView]) -> Vec<RuleRowView> {
        rules
            .iter()
            .map(|r| RuleRowView {
                id: r.id,
                name: r.name.clone(),
                event: r.event.clone(),
                min_severity: r.min_severity.clone(),
                cooldown: cooldown_words(r.cooldown_seconds),
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
                enabled: r.enabled,
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "system/alert_destination_edit.html")]
pub struct DestinationEditPage {
    pub chrome: Chrome,
    pub id: i64,
    pub saved: DestinationView,
    pub fields: DestinationForm,
    pub error: Option<FormError>,
    pub smtp_warning: String,
}

impl DestinationEditPage {
    pub fn error_of(&self, form: &str, field: &str) -> String {
        error_in(&self.error, form, field)
    }
}

#[derive(Template)]
#[template(path = "system/alert_rule_edit.html")]
pub struct RuleEditPage {
    pub chrome: Chrome,
    pub id: i64,
    pub enabled: bool,
    pub rule: RuleFields,
    pub destinations: Vec<DestinationView>,
    pub choices: RuleChoices,
    pub error: Option<FormError>,
    pub rule_action: String,
    pub rule_button: &'static str,
}

impl RuleEditPage {
    pub fn error_of(&self, form: &str, field: &str) -> String {
        error_in(&self.error, form, field)
    }
}
