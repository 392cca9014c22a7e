//! Destinations and rules as a person types them into the console's forms:
//! a destination's kind, URL or recipients, and a rule with its repeated
//! `destination` checkboxes and a cooldown in minutes or hours. A draft is
//! kept to be shown again beside its error, the webhook URL included (it is
//! masked only once saved), and read into the request the services check.

use serde::Deserialize;

use super::values::{EVENTS, time_zones};
use super::views::{DestinationRequest, DestinationView, RuleRequest, RuleView};
use crate::domain::{Invalid, TextKind};

/// A destination as typed (kept to be shown again).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(default)]
pub struct DestinationDraft {
    pub kind: String,
    pub name: String,
    pub url: String,
    pub recipients: String,
}

/// Recipients separated by commas, semicolons or white space.
fn recipients(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl DestinationDraft {
    /// A saved destination, to edit. The webhook URL is a secret: never
    /// sent back, only replaced.
    pub fn of_saved(saved: &DestinationView) -> DestinationDraft {
        DestinationDraft {
            kind: saved.kind.clone(),
            name: saved.name.clone(),
            url: String::new(),
            recipients: match saved.kind.as_str() {
                "email" => saved.target.clone(),
                _ => String::new(),
            },
        }
    }

    pub fn request(&self) -> DestinationRequest {
        DestinationRequest {
            kind: self.kind.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            recipients: recipients(&self.recipients),
        }
    }
}

/// A rule as typed.
#[derive(Debug, Clone, Default)]
pub struct RuleDraft {
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown: String,
    /// `minutes` or `hours` (`seconds` for a value saved from the CLI).
    pub cooldown_unit: String,
    pub quiet_hours: String,
    pub timezone: String,
    pub destinations: Vec<String>,
}

/// The units a cooldown can be typed in, and their seconds.
const UNITS: [(&str, i64); 3] = [("minutes", 60), ("hours", 3600), ("seconds", 1)];

impl RuleDraft {
    pub fn of(pairs: Vec<(String, String)>) -> RuleDraft {
        let mut f = RuleDraft::default();
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "name" => f.name = v,
                "event" => f.event = v,
                "min_severity" => f.min_severity = v,
                "cooldown" => f.cooldown = v,
                "cooldown_unit" => f.cooldown_unit = v,
                // Seconds, as scripts and older forms send them.
                "cooldown_seconds" => {
                    f.cooldown = v;
                    f.cooldown_unit = "seconds".into();
                }
                "quiet_hours" => f.quiet_hours = v,
                "timezone" => f.timezone = v,
                "destination" => f.destinations.push(v),
                _ => {}
            }
        }
        f
    }

    /// A saved rule, to edit.
    pub fn of_rule(r: &RuleView) -> RuleDraft {
        let (cooldown, unit) = match r.cooldown_seconds {
            0 => (String::new(), "minutes"),
            s if s % 3600 == 0 => ((s / 3600).to_string(), "hours"),
            s if s % 60 == 0 => ((s / 60).to_string(), "minutes"),
            s => (s.to_string(), "seconds"),
        };
        RuleDraft {
            name: r.name.clone(),
            event: r.event.clone(),
            min_severity: r.min_severity.clone(),
            cooldown,
            cooldown_unit: unit.into(),
            quiet_hours: r.quiet_hours.clone().unwrap_or_default(),
            timezone: r.timezone.clone().unwrap_or_default(),
            destinations: r.destination_ids.iter().map(i64::to_string).collect(),
        }
    }

    /// Whether destination `id` is ticked.
    pub fn picks(&self, id: &i64) -> bool {
        self.destinations.contains(&id.to_string())
    }

    /// The units offered: seconds only when the value is in seconds.
    pub fn units(&self) -> Vec<&'static str> {
        UNITS
            .iter()
            .map(|(u, _)| *u)
            .filter(|u| *u != "seconds" || self.cooldown_unit == "seconds")
            .collect()
    }

    fn cooldown_seconds(&self) -> Result<Option<i64>, Invalid> {
        let raw = TextKind::IDENTIFIER
            .check("cooldown_seconds", &self.cooldown)
            .map_err(Invalid::at("cooldown"))?;
        if raw.is_empty() {
            return Ok(None);
        }
        let unit = match self.cooldown_unit.as_str() {
            "" => "minutes",
            u => u,
        };
        let Some((_, factor)) = UNITS.iter().find(|(u, _)| *u == unit) else {
            return Err(Invalid::new(
                "cooldown",
                format!("the cooldown unit {unit:?} is not minutes or hours"),
            ));
        };
        let n = raw.parse::<i64>().map_err(|_| {
            Invalid::new(
                "cooldown",
                format!("the cooldown {raw:?} must be a whole number of {unit} (0 or more)"),
            )
        })?;
        Ok(Some(n.saturating_mul(*factor)))
    }

    pub fn request(&self) -> Result<RuleRequest, Invalid> {
        let cooldown_seconds = self.cooldown_seconds()?;
        let destination_ids = self
            .destinations
            .iter()
            .map(|d| {
                TextKind::IDENTIFIER
                    .check("destination", d)
                    .map_err(Invalid::at("destination"))?
                    .parse::<i64>()
                    .map_err(|_| {
                        Invalid::new(
                            "destination",
                            format!("alert destination {d:?} does not exist"),
                        )
                    })
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
            min_severity: given(&self.min_severity),
            cooldown_seconds,
            quiet_hours,
            timezone,
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
