//! The values alert rules and destinations are made of, each parsed once:
//! severity, quiet hours in an IANA time zone, webhook URLs, recipients.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::{Email, Invalid, TextKind};

/// The event a failed or partially failed run emits.
pub const RUN_FAILED_EVENT: &str = "operation_run.failed";
/// The notice of a run that succeeded after its predecessor (same runbook
/// and scope) failed or partially succeeded.
pub const RUN_RECOVERED_EVENT: &str = "operation_run.recovered";
/// A sign-in key refused by the throttle, once per key and window.
pub const LOGIN_THROTTLED_EVENT: &str = "auth.login_throttled";
pub const EVENTS: [&str; 3] = [RUN_FAILED_EVENT, RUN_RECOVERED_EVENT, LOGIN_THROTTLED_EVENT];

/// How serious an event is. `Info` is a notice (a recovery), not a problem:
/// no rule takes it as a minimum, and a rule's minimum does not hold a
/// notice back (the rule chose the notice by its event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Whether a rule whose minimum is `min` takes an event of this severity.
    pub fn passes(self, min: Severity) -> bool {
        self == Severity::Info || self >= min
    }

    /// A rule's minimum, as typed: `info` is no minimum a rule can hold.
    pub fn parse(s: &str) -> Result<Severity, String> {
        match TextKind::IDENTIFIER.check("min_severity", s)? {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?} (low, medium, high, critical)"
            )),
        }
    }
}

pub fn parse_event(s: &str) -> Result<&'static str, String> {
    let s = TextKind::IDENTIFIER.check("event", s)?;
    EVENTS
        .into_iter()
        .find(|e| *e == s)
        .ok_or_else(|| format!("unknown event {s:?} (known: {})", EVENTS.join(", ")))
}

/// A daily window `HH:MM-HH:MM` in an IANA time zone; it may cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub tz: Tz,
}

impl QuietHours {
    /// A window and its time zone; the error names the part that is wrong
    /// (`quiet_hours` or `timezone`).
    pub fn parse(window: &str, timezone: &str) -> Result<QuietHours, Invalid> {
        let window = TextKind::IDENTIFIER
            .check("quiet_hours", window)
            .map_err(Invalid::at("quiet_hours"))?;
        let timezone = TextKind::IDENTIFIER
            .check("timezone", timezone)
            .map_err(Invalid::at("timezone"))?;
        let tz = Tz::from_str(timezone).map_err(|_| {
            Invalid::new(
                "timezone",
                format!("unknown time zone {timezone:?}: pick an IANA name such as Europe/Berlin"),
            )
        })?;
        let shape = || {
            Invalid::new(
                "quiet_hours",
                format!(
                    "quiet hours {window:?} must look like 22:00-07:00 (start-end, 24-hour clock)"
                ),
            )
        };
        let (start, end) = window.split_once('-').ok_or_else(shape)?;
        let time = |part: &str, s: &str| {
            let s = s.trim();
            let (h, m) = s.split_once(':').ok_or_else(shape)?;
            let digits =
                |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
            if !digits(h) || m.len() != 2 || !digits(m) {
                return Err(shape());
            }
            NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| {
                Invalid::new(
                    "quiet_hours",
                    format!("quiet hours: the {part} {s:?} is not a time of day (00:00 to 23:59)"),
                )
            })
        };
        let (start, end) = (time("start", start)?, time("end", end)?);
        if start == end {
            return Err(Invalid::new(
                "quiet_hours",
                format!("quiet hours {window:?} are empty: start and end are the same"),
            ));
        }
        Ok(QuietHours { start, end, tz })
    }

    pub fn window(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }

    fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When a delivery due `now` may go: `None` outside the window, else the
    /// window's end in its time zone — correct across daylight-saving changes
    /// (an end that does not exist that day moves to the first instant after it).
    pub fn defer_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        let t = local.time();
        if !self.contains(t) {
            return None;
        }
        let mut date = local.date_naive();
        if t >= self.end {
            date = date.succ_opt()?;
        }
        let mut naive = date.and_time(self.end);
        for _ in 0..4 {
            if let Some(end) = self.tz.from_local_datetime(&naive).earliest() {
                return Some(end.with_timezone(&Utc));
            }
            naive += Duration::minutes(30);
        }
        None
    }
}

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    Teams { url: String },
    Email { to: Vec<String> },
}

impl Channel {
    /// Recipients of one email destination.
    pub const MAX_RECIPIENTS: usize = 100;

    pub fn teams(url: &str) -> Result<Channel, String> {
        let url = TextKind::URL.require("url", url)?;
        // The URL is a secret: messages never repeat it.
        let parsed = reqwest::Url::parse(url).map_err(|_| {
            "the webhook URL is not a URL: it must look like https://host/path".to_string()
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!(
                "the webhook URL must be http(s) with a host, not {}:",
                parsed.scheme()
            ));
        }
        Ok(Channel::Teams {
            url: parsed.to_string(),
        })
    }

    /// A destination as a door received it: a type with a URL (teams) or
    /// recipients (email).
    pub fn from_parts(
        kind: Option<&str>,
        url: Option<&str>,
        to: &[String],
    ) -> Result<Channel, String> {
        let kind = kind
            .map(|k| TextKind::IDENTIFIER.check("type", k))
            .transpose()?;
        match (kind, url) {
            (Some("teams"), Some(url)) if to.is_empty() => Channel::teams(url),
            (Some("teams"), Some(_)) => {
                Err("a Teams destination takes a webhook URL, not recipients".into())
            }
            (Some("teams"), None) => Err("a Teams destination needs its webhook URL".into()),
            (Some("email"), None) => Channel::email(to),
            (Some("email"), Some(_)) => {
                Err("an email destination takes recipients, not a URL".into())
            }
            (Some(other), _) => Err(format!(
                "unknown destination type {other:?}: use teams or email"
            )),
            (None, _) => Err("choose a destination type: teams or email".into()),
        }
    }

    pub fn email(to: &[String]) -> Result<Channel, String> {
        if to.is_empty() {
            return Err("an email destination needs at least one recipient".into());
        }
        if to.len() > Channel::MAX_RECIPIENTS {
            return Err(format!(
                "recipients: at most {} addresses",
                Channel::MAX_RECIPIENTS
            ));
        }
        let to = to
            .iter()
            .map(|a| Email::parse_field("recipients", a).map(|e| e.as_str().to_owned()))
            .collect::<Result<_, _>>()?;
        Ok(Channel::Email { to })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Channel::Teams { .. } => "teams",
            Channel::Email { .. } => "email",
        }
    }

    /// What may be shown: a webhook URL is a secret, so only its host is.
    pub fn masked_target(&self) -> String {
        match self {
            Channel::Teams { url } => mask_url(url),
            Channel::Email { to } => to.join(", "),
        }
    }
}

/// A cooldown in words: `2 h`, `15 min`, `90 s`, `none`.
pub fn cooldown_words(seconds: i64) -> String {
    match seconds {
        0 => "none".into(),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Every IANA time zone name, for the time-zone picker.
pub fn time_zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// `https://host/…` with path and query hidden.
pub fn mask_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match u.host_str() {
            Some(host) => format!("{}://{}/…", u.scheme(), host),
            None => "…".into(),
        },
        Err(_) => "…".into(),
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_parse_and_reject() {
        assert!(QuietHours::parse("22:00-07:00", "Europe/Berlin").is_ok());
        assert!(
            QuietHours::parse("22:00-22:00", "UTC")
                .unwrap_err()
                .message
                .contains("empty")
        );
        assert!(QuietHours::parse("", "UTC").is_err());
        let e = QuietHours::parse("25:00-07:00", "UTC").unwrap_err();
        assert_eq!(e.field, "quiet_hours");
        assert!(
            e.message
                .contains("the start \"25:00\" is not a time of day"),
            "{e:?}"
        );
        let e = QuietHours::parse("22:00-07:60", "UTC").unwrap_err();
        assert!(e.message.contains("the end \"07:60\""), "{e:?}");
        let e = QuietHours::parse("late", "UTC").unwrap_err();
        assert!(e.message.contains("must look like 22:00-07:00"), "{e:?}");
        let e = QuietHours::parse("22:00-07:00", "Mars/Olympus").unwrap_err();
        assert_eq!(e.field, "timezone");
        assert!(e.message.contains("time zone"));
        assert!(time_zones().contains(&"Europe/Berlin"));
    }

    #[test]
    fn a_window_across_midnight_defers_to_its_end() {
        let q = QuietHours::parse("22:00-07:00", "Europe/Berlin").unwrap();
        // 23:30 Berlin (CET, UTC+1) → 07:00 next morning = 06:00Z.
        assert_eq!(
            q.defer_until(utc("2026-01-10T22:30:00Z")),
            Some(utc("2026-01-11T06:00:00Z"))
        );
        // 03:00 Berlin → 07:00 the same morning.
        assert_eq!(
            q.defer_until(utc("2026-01-11T02:00:00Z")),
            Some(utc("2026-01-11T06:00:00Z"))
        );
        // 12:00 Berlin: outside.
        assert_eq!(q.defer_until(utc("2026-01-11T11:00:00Z")), None);
    }

    #[test]
    fn daylight_saving_changes_move_the_end_in_utc() {
        let q = QuietHours::parse("22:00-07:00", "America/New_York").unwrap();
        // Night of the spring change (2026-03-08): 07:00 EDT is 11:00Z, not 12:00Z.
        assert_eq!(
            q.defer_until(utc("2026-03-08T05:00:00Z")),
            Some(utc("2026-03-08T11:00:00Z"))
        );
        // Autumn change (2026-11-01): 07:00 EST is 12:00Z.
        assert_eq!(
            q.defer_until(utc("2026-11-01T04:30:00Z")),
            Some(utc("2026-11-01T12:00:00Z"))
        );
        // An end inside the skipped hour moves to the first instant after it.
        let gap = QuietHours::parse("01:00-02:30", "America/New_York").unwrap();
        assert_eq!(
            gap.defer_until(utc("2026-03-08T06:30:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn webhook_urls_are_checked_and_masked() {
        assert!(Channel::teams("ftp://example.com/x").is_err());
        assert!(Channel::teams("not a url").is_err());
        let c =
            Channel::teams("https://example.webhook.office.com/webhookb2/secret-token").unwrap();
        assert_eq!(c.masked_target(), "https://example.webhook.office.com/…");
        assert!(Channel::email(&[]).is_err());
        assert!(Channel::email(&["nope".into()]).is_err());
    }
}
