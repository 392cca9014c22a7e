//! The alert forms as typed: a destination's kind, URL or recipients, and a
//! rule with its repeated `destination` checkboxes.

use serde::Deserialize;

use super::views::AlertForms;
use crate::alerts::{Channel, RuleRequest};
use crate::domain::TextKind;
use crate::doors::web::kit::opt;
use crate::error::Error;

#[derive(Deserialize)]
pub struct DestinationForm {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
    pub recipients: Option<String>,
}

/// Recipients separated by commas, semicolons or white space.
fn recipients(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl DestinationForm {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    pub fn channel(&self) -> Result<Channel, Error> {
        let to = recipients(self.recipients.as_deref().unwrap_or(""));
        Channel::from_parts(opt(&self.kind), opt(&self.url), &to).map_err(Error::BadInput)
    }

    /// What to show again; the webhook URL is a secret and never sent back,
    /// not even to fix it.
    pub fn typed(&self) -> AlertForms {
        AlertForms {
            destination_kind: opt(&self.kind).unwrap_or("teams").to_owned(),
            destination_name: self.name().trim().to_owned(),
            recipients: self.recipients.as_deref().unwrap_or("").trim().to_owned(),
            ..AlertForms::default()
        }
    }
}

/// The rule form: repeated `destination` checkboxes, so read as pairs.
pub struct RuleForm {
    name: String,
    event: String,
    min_severity: String,
    cooldown: String,
    quiet_hours: String,
    timezone: String,
    destinations: Vec<String>,
}

impl RuleForm {
    pub fn of(pairs: Vec<(String, String)>) -> RuleForm {
        let mut f = RuleForm {
            name: String::new(),
            event: String::new(),
            min_severity: String::new(),
            cooldown: String::new(),
            quiet_hours: String::new(),
            timezone: String::new(),
            destinations: Vec::new(),
        };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "name" => f.name = v,
                "event" => f.event = v,
                "min_severity" => f.min_severity = v,
                "cooldown_seconds" => f.cooldown = v,
                "quiet_hours" => f.quiet_hours = v,
                "timezone" => f.timezone = v,
                "destination" => f.destinations.push(v),
                _ => {}
            }
        }
        f
    }

    pub fn request(&self) -> Result<RuleRequest, Error> {
        let number = |field, v| {
            TextKind::IDENTIFIER
                .check(field, v)
                .map_err(Error::BadInput)
        };
        let cooldown_seconds = match number("cooldown_seconds", &self.cooldown)? {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| {
                Error::BadInput(format!(
                    "the cooldown {s:?} must be a whole number of seconds (0 or more)"
                ))
            })?),
        };
        let destination_ids = self
            .destinations
            .iter()
            .map(|d| {
                number("destination", d)?
                    .parse::<i64>()
                    .map_err(|_| Error::BadInput(format!("alert destination {d:?} does not exist")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // The form keeps a time zone even without a window: no window, no
        // quiet hours. Pairing them is the service's rule.
        let given = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        let quiet_hours = given(&self.quiet_hours);
        let timezone = quiet_hours.as_ref().and_then(|_| given(&self.timezone));
        Ok(RuleRequest {
            name: self.name.clone(),
            event: self.event.clone(),
            destination_ids,
            min_severity: Some(self.min_severity.clone()).filter(|s| !s.is_empty()),
            cooldown_seconds,
            quiet_hours,
            timezone,
        })
    }

    pub fn typed(self) -> AlertForms {
        AlertForms {
            rule_name: self.name,
            rule_event: self.event,
            rule_severity: self.min_severity,
            rule_cooldown: self.cooldown,
            rule_quiet_hours: self.quiet_hours,
            rule_timezone: self.timezone,
            rule_destinations: self.destinations,
            ..AlertForms::default()
        }
    }
}
