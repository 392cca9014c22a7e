//! The one rule for every kind of text a door hands in: how long it may be
//! and which characters it may hold. Every checked value (email, name,
//! reason, ids, filters, URLs, passwords) passes through a [`TextKind`]
//! before anything is written, so a value one database would refuse (a NUL
//! byte, an index key over its size limit) is refused alike on both, with a
//! message that names the field, e.g. `name: at most 200 characters`.

/// A kind of text value and its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextKind {
    /// At most this many characters (Unicode scalar values), after trimming.
    pub max_chars: usize,
    /// Line breaks (`\n`, `\r\n`) may appear: a value of several lines.
    multi_line: bool,
    /// The bidirectional overrides and isolates (U+202A–U+202E,
    /// U+2066–U+2069) may appear: only where the value is never shown.
    bidi_controls: bool,
    /// Surrounding white space is part of the value (passwords).
    keeps_spaces: bool,
}

impl TextKind {
    /// An email address (RFC 5321 limits a path to 254).
    pub const EMAIL: TextKind = TextKind::single_line(254);
    /// A display name: operator, user, alert destination, alert rule.
    pub const NAME: TextKind = TextKind::single_line(200);
    /// An identifier typed by hand: tenant external id, runbook key,
    /// workspace slug, and the values picked from a list (scope, event,
    /// severity, time zone, quiet hours window, release).
    pub const IDENTIFIER: TextKind = TextKind::single_line(200);
    /// A filter or search string of a list (`?status=`, `?tenant=`, …).
    pub const FILTER: TextKind = TextKind::single_line(200);
    /// Why a run was started: several lines are fine.
    pub const REASON: TextKind = TextKind {
        multi_line: true,
        ..TextKind::single_line(2_000)
    };
    /// A webhook URL.
    pub const URL: TextKind = TextKind::single_line(2_048);
    /// A password: never stored or shown, but bounded, because every sign-in
    /// hashes it. Kept exactly as typed.
    pub const PASSWORD: TextKind = TextKind {
        bidi_controls: true,
        keeps_spaces: true,
        ..TextKind::single_line(1_024)
    };

    const fn single_line(max_chars: usize) -> TextKind {
        TextKind {
            max_chars,
            multi_line: false,
            bidi_controls: false,
            keeps_spaces: false,
        }
    }

    /// Checks `raw` as the value of `field` and answers it trimmed (a
    /// password as given). Blank passes: whether a field may be blank is
    /// for its owner to say (see [`TextKind::require`]).
    pub fn check<'a>(self, field: &str, raw: &'a str) -> Result<&'a str, String> {
        let value = if self.keeps_spaces { raw } else { raw.trim() };
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            let allowed_break =
                self.multi_line && (c == '\n' || (c == '\r' && chars.peek() == Some(&'\n')));
            if c.is_control() && !allowed_break {
                return Err(format!("{field}: must not contain control characters"));
            }
            if is_bidi_control(c) && !self.bidi_controls {
                return Err(format!(
                    "{field}: must not contain bidirectional override characters"
                ));
            }
        }
        if value.chars().nth(self.max_chars).is_some() {
            return Err(format!("{field}: at most {} characters", self.max_chars));
        }
        Ok(value)
    }

    /// An optional value (a filter): absent or blank is `None`.
    pub fn optional<'a>(
        self,
        field: &str,
        raw: Option<&'a str>,
    ) -> Result<Option<&'a str>, String> {
        match raw {
            Some(raw) => Ok(Some(self.check(field, raw)?).filter(|v| !v.trim().is_empty())),
            None => Ok(None),
        }
    }

    /// Like [`TextKind::check`], and blank is refused.
    pub fn require<'a>(self, field: &str, raw: &'a str) -> Result<&'a str, String> {
        let value = self.check(field, raw)?;
        if value.trim().is_empty() {
            return Err(format!("{field}: must not be empty"));
        }
        Ok(value)
    }
}

/// The characters that reorder how text around them is shown (the
/// "Trojan Source" characters): embeddings and overrides, and isolates.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        for bad in [
            "a\0b",
            "\u{1}",
            "x\u{7f}",
            "\u{1b}[31mred",
            "a\u{85}b",
            "a\rb",
        ] {
            assert_eq!(
                TextKind::NAME.check("name", bad).unwrap_err(),
                "name: must not contain control characters",
                "{bad:?}"
            );
        }
        assert!(TextKind::NAME.check("name", "two\nlines").is_err());
        assert!(TextKind::PASSWORD.check("password", "pass\0word").is_err());
    }

    #[test]
    fn reasons_may_have_several_lines() {
        let r = TextKind::REASON.check("reason", " first\r\nsecond\nthird ");
        assert_eq!(r.unwrap(), "first\r\nsecond\nthird");
        assert!(TextKind::REASON.check("reason", "a\rb").is_err());
        assert!(TextKind::REASON.check("reason", "a\u{0}b").is_err());
    }

    #[test]
    fn bidi_overrides_are_refused_except_in_passwords() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let s = format!("admin{c}txt.exe");
            assert!(TextKind::IDENTIFIER.check("tenant", &s).is_err(), "{c:?}");
            assert!(TextKind::REASON.check("reason", &s).is_err(), "{c:?}");
            assert!(TextKind::PASSWORD.check("password", &s).is_ok(), "{c:?}");
        }
        assert!(TextKind::NAME.check("name", "\u{200F}ok").is_ok());
    }

    #[test]
    fn lengths_count_characters_after_trimming() {
        let at_limit = "é".repeat(200);
        assert_eq!(TextKind::NAME.check("name", &at_limit).unwrap(), at_limit);
        let over = "é".repeat(201);
        assert_eq!(
            TextKind::NAME.check("name", &over).unwrap_err(),
            "name: at most 200 characters"
        );
        let padded = format!("  {at_limit}  ");
        assert!(TextKind::NAME.check("name", &padded).is_ok());
        assert!(TextKind::EMAIL.check("email", &"a".repeat(5_000)).is_err());
    }

    #[test]
    fn emoji_are_text() {
        assert_eq!(
            TextKind::NAME.check("name", " On-call 🚨 ").unwrap(),
            "On-call 🚨"
        );
    }

    #[test]
    fn blank_passes_check_but_not_require() {
        assert_eq!(TextKind::NAME.check("name", "   ").unwrap(), "");
        assert_eq!(
            TextKind::NAME.require("name", "   ").unwrap_err(),
            "name: must not be empty"
        );
        assert_eq!(TextKind::PASSWORD.check("password", " x ").unwrap(), " x ");
    }
}
