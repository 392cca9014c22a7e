//! View helpers every feature shares: times, and the filters templates
//! apply to the services' view-ready types. Formatting lives here; no
//! decisions do.

use std::fmt;

use chrono::{DateTime, Utc};

/// A moment as the console shows it: `<time datetime="…Z" title="… UTC">… UTC</time>`.
/// The page reads in UTC; `static/console.js` rewrites the text to the
/// browser's local time and the title keeps the UTC. `—` when there is none.
/// Rendered as is by templates (`{{ run.created_at|time }}`): it writes only
/// digits, dashes, colons and fixed text, so there is nothing to escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeTag {
    at: Option<DateTime<Utc>>,
    /// The day only (the browser's local day once localised).
    date_only: bool,
}

impl fmt::Display for TimeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = self.at else {
            return f.write_str("—");
        };
        let iso = t.format("%Y-%m-%dT%H:%M:%SZ");
        let utc = t.format("%Y-%m-%d %H:%M:%S UTC");
        if self.date_only {
            let day = t.format("%Y-%m-%d");
            write!(
                f,
                r#"<time datetime="{iso}" title="{utc}" data-date-only>{day}</time>"#
            )
        } else {
            write!(f, r#"<time datetime="{iso}" title="{utc}">{utc}</time>"#)
        }
    }
}

impl askama::filters::HtmlSafe for TimeTag {}

/// What templates apply to the services' view-ready types, so a page reads
/// them as they are: `{{ n.created_at|time }}`, `{{ row.attempts|count }}`.
/// A template module brings them in with `use …::kit::filters;`.
pub mod filters {
    use chrono::{DateTime, Utc};

    use std::borrow::Borrow;

    use super::TimeTag;

    /// A moment, or none.
    pub trait Moment {
        fn moment(&self) -> Option<DateTime<Utc>>;
    }

    impl Moment for DateTime<Utc> {
        fn moment(&self) -> Option<DateTime<Utc>> {
            Some(*self)
        }
    }

    impl Moment for Option<DateTime<Utc>> {
        fn moment(&self) -> Option<DateTime<Utc>> {
            *self
        }
    }

    /// A moment as a [`TimeTag`] (`—` when there is none).
    pub fn time(t: &impl Moment, _: &dyn askama::Values) -> askama::Result<TimeTag> {
        let (at, date_only) = (t.moment(), false);
        Ok(TimeTag { at, date_only })
    }

    /// A moment's day (the browser's local day once localised).
    pub fn day(t: &impl Moment, _: &dyn askama::Values) -> askama::Result<TimeTag> {
        let (at, date_only) = (t.moment(), true);
        Ok(TimeTag { at, date_only })
    }

    /// A number with thousands separators.
    pub fn count(n: impl Borrow<i64>, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::super::format::count(*n.borrow()))
    }

    /// A number of a noun with a regular plural: `{{ n|plural("tenant") }}`.
    pub fn plural(n: &i64, _: &dyn askama::Values, noun: &str) -> askama::Result<String> {
        Ok(super::super::format::plural(*n, noun))
    }

    /// A number of items named by their plural: `{{ n|items("findings") }}`.
    pub fn items(n: &i64, _: &dyn askama::Values, nouns: &str) -> askama::Result<String> {
        let one = nouns.strip_suffix('s').unwrap_or(nouns);
        Ok(super::super::format::counted(*n, one, nouns))
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use chrono::TimeZone;

    use super::*;

    #[derive(Template)]
    #[template(source = "<p>{{ t }}</p><p>{{ none }}</p>", ext = "html")]
    struct Probe {
        t: TimeTag,
        none: TimeTag,
    }

    #[test]
    fn a_time_renders_as_a_time_element_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 22, 5, 9).unwrap();
        let html = Probe {
            t: TimeTag {
                at: Some(at),
                date_only: false,
            },
            none: TimeTag {
                at: None,
                date_only: false,
            },
        }
        .render()
        .unwrap();
        assert_eq!(
            html,
            r#"<p><time datetime="2026-03-01T22:05:09Z" title="2026-03-01 22:05:09 UTC">2026-03-01 22:05:09 UTC</time></p><p>—</p>"#
        );
        assert_eq!(
            filters::day(&at, &()).unwrap().to_string(),
            r#"<time datetime="2026-03-01T22:05:09Z" title="2026-03-01 22:05:09 UTC" data-date-only>2026-03-01</time>"#
        );
    }
}
