//! The alerts pages: destinations (webhook URLs masked) and rules with
//! their state, the add and edit forms with what was typed and each error
//! beside its field, and numbered pages of deliveries, each rule and
//! destination named.

use askama::Template;

use super::forms::{DestinationForm, RuleFields};
use crate::alerts::values::{EVENTS, time_zones};
use crate::alerts::{DeliveryView, DestinationView, RuleView};
use crate::domain::Invalid;
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

/// What the alerts templates apply besides the kit's: a cooldown in
/// words, and the colour of a delivery's status.
pub mod filters {
    pub use crate::doors::web::kit::views::filters::*;

    pub fn cooldown(seconds: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(crate::alerts::values::cooldown_words(*seconds))
    }

    pub fn status_class(status: &str, _: &dyn askama::Values) -> askama::Result<&'static str> {
        Ok(match status {
            "sent" => "ok",
            "failed" => "bad",
            "deferred" => "warn",
            "queued" => "queued",
            _ => "muted",
        })
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
    pub rules: Vec<RuleView>,
    pub deliveries: Vec<DeliveryView>,
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

    /// A destination by id as rules and deliveries name it.
    pub fn destination_name(&self, id: &i64) -> String {
        let found = self.destinations.iter().find(|d| d.id == *id);
        found.map_or_else(|| format!("#{id}"), |d| format!("{} (#{id})", d.name))
    }

    pub fn destinations_of(&self, r: &RuleView) -> String {
        let names: Vec<String> = r
            .destination_ids
            .iter()
            .map(|id| self.destination_name(id))
            .collect();
        names.join(", ")
    }

    pub fn quiet_hours(&self, r: &RuleView) -> String {
        match (&r.quiet_hours, &r.timezone) {
            (Some(w), Some(tz)) => format!("{w} {tz}"),
            (Some(w), None) => w.clone(),
            _ => "—".into(),
        }
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
