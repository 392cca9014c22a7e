//! Values with rules, each parsed once where it enters.

use std::fmt;

use super::text::TextKind;

/// An email stored normalized: trimmed and lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        Email::parse_field("email", raw)
    }

    /// Parses the value of a field with another name (e.g. `recipients`).
    pub fn parse_field(field: &str, raw: &str) -> Result<Email, String> {
        let e = TextKind::EMAIL.require(field, raw)?.to_lowercase();
        let valid = e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !e.chars().any(char::is_whitespace)
        });
        if valid {
            Ok(Email(e))
        } else {
            Err(format!("{field}: {:?} is not an email address", raw.trim()))
        }
    }

    /// The normalized form of whatever was typed, valid or not (throttle keys).
    pub fn normalize_loose(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant's id in its workspace, as operators type it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TenantExternalId(String);

impl TenantExternalId {
    pub fn parse(raw: &str) -> Result<TenantExternalId, String> {
        let s = TextKind::IDENTIFIER.require("tenant", raw)?;
        Ok(TenantExternalId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A runbook's registry key, e.g. `findings.backfill-lifecycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunbookKey(pub &'static str);

impl RunbookKey {
    /// Checks a key as typed (CLI argument, path segment) before it is
    /// looked up; answers it trimmed.
    pub fn check(raw: &str) -> Result<&str, String> {
        TextKind::IDENTIFIER.require("runbook", raw)
    }
}

impl fmt::Display for RunbookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Why an operator starts a run. Blank is never a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub const MAX_LEN: usize = TextKind::REASON.max_chars;

    /// `required`: whether this door must give one (the console does).
    /// Several lines are kept, with `\n` between them.
    pub fn parse(raw: Option<&str>, required: bool) -> Result<Option<Reason>, String> {
        match raw {
            None if required => Err("reason: must not be empty".into()),
            None => Ok(None),
            Some(r) => {
                let r = TextKind::REASON.require("reason", r)?;
                Ok(Some(Reason(r.replace("\r\n", "\n"))))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowered() {
        assert_eq!(
            Email::parse("  Ops@Example.COM ").unwrap().as_str(),
            "ops@example.com"
        );
        assert!(Email::parse("nope").is_err());
        assert!(Email::parse("a@b@c").is_err());
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(
            Email::parse("ops\0@example.com").unwrap_err(),
            "email: must not contain control characters"
        );
        assert!(
            Email::parse_field("recipients", "nope")
                .unwrap_err()
                .starts_with("recipients: ")
        );
        assert_eq!(
            TenantExternalId::parse("acme\u{202e}").unwrap_err(),
            "tenant: must not contain bidirectional override characters"
        );
        assert_eq!(
            RunbookKey::check(&"k".repeat(201)).unwrap_err(),
            "runbook: at most 200 characters"
        );
        let long = "r".repeat(Reason::MAX_LEN + 1);
        assert_eq!(
            Reason::parse(Some(&long), false).unwrap_err(),
            "reason: at most 2000 characters"
        );
    }

    #[test]
    fn reasons_keep_their_lines() {
        let r = Reason::parse(Some("first\r\nsecond"), true)
            .unwrap()
            .unwrap();
        assert_eq!(r.as_str(), "first\nsecond");
    }

    #[test]
    fn reasons_are_never_blank() {
        assert!(Reason::parse(Some("   "), false).is_err());
        assert!(Reason::parse(None, true).is_err());
        assert_eq!(Reason::parse(None, false).unwrap(), None);
        assert_eq!(
            Reason::parse(Some(" fix "), true)
                .unwrap()
                .unwrap()
                .as_str(),
            "fix"
        );
    }
}
