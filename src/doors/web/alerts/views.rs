//! The alerts pages: the service's overview of destinations (webhook URLs
//! masked), rules and numbered pages of deliveries, and the add and edit
//! forms with what was typed and each error beside its field.

use std::ops::Deref;

use askama::Template;

use crate::alerts::{AlertsOverview, DestinationDraft, DestinationView, RuleChoices, RuleDraft};
use crate::domain::Invalid;
use crate::doors::web::kit::{Chrome, Flash, Pager};

/// Which form failed, and the field that is wrong in it.
#[derive(Debug, Clone)]
pub struct FormError {
    /// `teams`, `email`, `rule` or `destination` (an edit page's form).
    pub form: &'static str,
    pub invalid: Invalid,
}

impl FormError {
    /// Tags a mistake with the form it was made in.
    pub fn at(form: &'static str) -> impl Fn(Invalid) -> FormError {
        move |invalid| FormError { form, invalid }
    }
}

/// `error_of(form, field)` for each page: the mistake made in `field` of
/// `form`, or nothing.
macro_rules! error_of {
    ($($page:ident => $($error:ident).+;)*) => {$(
        impl $page {
            pub fn error_of(&self, form: &str, field: &str) -> String {
                match &self.$($error).+ {
                    Some(e) if e.form == form && e.invalid.field == field => e.invalid.message.clone(),
                    _ => String::new(),
                }
            }
        }
    )*};
}

error_of! {
    AlertsPage => forms.error;
    DestinationEditPage => error;
    RuleEditPage => error;
}

/// What was typed into the alert forms, shown again with a 422.
#[derive(Debug, Clone, Default)]
pub struct AlertForms {
    pub teams: DestinationDraft,
    pub email: DestinationDraft,
    pub rule: RuleDraft,
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

/// The alerts page; it reads the overview's destinations, rules and
/// deliveries as its own.
#[derive(Template)]
#[template(path = "system/alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub flash: Option<Flash>,
    pub overview: AlertsOverview,
    pub pager: Pager,
    pub choices: RuleChoices,
    pub forms: AlertForms,
    pub rule: RuleDraft,
    pub rule_action: String,
    pub rule_button: &'static str,
    pub smtp_warning: String,
}

impl Deref for AlertsPage {
    type Target = AlertsOverview;

    fn deref(&self) -> &AlertsOverview {
        &self.overview
    }
}

#[derive(Template)]
#[template(path = "system/alert_destination_edit.html")]
pub struct DestinationEditPage {
    pub chrome: Chrome,
    pub id: i64,
    pub saved: DestinationView,
    pub fields: DestinationDraft,
    pub error: Option<FormError>,
}

#[derive(Template)]
#[template(path = "system/alert_rule_edit.html")]
pub struct RuleEditPage {
    pub chrome: Chrome,
    pub id: i64,
    pub enabled: bool,
    pub rule: RuleDraft,
    pub destinations: Vec<DestinationView>,
    pub choices: RuleChoices,
    pub error: Option<FormError>,
    pub rule_action: String,
    pub rule_button: &'static str,
}
