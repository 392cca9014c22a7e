//! An operator's controls over a run: the concurrency cap and the error
//! budget (each a count or a percentage of the run's tenants), the decision
//! whether a tenant may start, and the estimate of the time remaining.
//! No I/O here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Reason stored on a run that stopped because too many tenants failed.
pub const REASON_ERROR_BUDGET_EXHAUSTED: &str = "run.error_budget_exhausted";

/// A count (`10`) or a percentage of the run's tenants (`10%`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Count(i64),
    Percent(i64),
}

impl Limit {
    /// Parses `N` or `N%`; `min` is the smallest count allowed (a cap of 0
    /// would never start anything, an error budget of 0 stops at the first
    /// failure). A percentage lies in `min..=100` (at least 1 for a cap).
    pub fn parse(field: &str, raw: &str, min: i64) -> Result<Limit> {
        let bad = || {
            Error::BadInput(format!(
                "{field} must be a whole number of tenants (at least {min}) or a percentage such as 10%, not {raw:?}"
            ))
        };
        let text = raw.trim();
        let (digits, percent) = match text.strip_suffix('%') {
            Some(d) => (d.trim(), true),
            None => (text, false),
        };
        if digits.is_empty() || digits.len() > 9 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        if n < min {
            return Err(bad());
        }
        if percent {
            if n > 100 {
                return Err(Error::BadInput(format!(
                    "{field} as a percentage lies between {min}% and 100%, not {raw:?}"
                )));
            }
            Ok(Limit::Percent(n))
        } else {
            Ok(Limit::Count(n))
        }
    }

    /// The limit as a number of tenants of a run of `total` tenants.
    /// Percentages round down, but a cap never rounds to zero.
    pub fn of(&self, total: i64) -> i64 {
        match *self {
            Limit::Count(n) => n,
            Limit::Percent(p) => total.max(0) * p / 100,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Count(n) => write!(f, "{n}"),
            Limit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Limits as a door took them: a field left out (None) keeps its value, an
/// empty text removes the limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct LimitsText<'a> {
    pub max_concurrency: Option<&'a str>,
    pub max_errors: Option<&'a str>,
    pub min_finished: Option<&'a str>,
}

/// A run's cap and error budget, as stored and shown (`"10"`, `"5%"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunLimits {
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    /// Tenants that must have finished before a percentage budget applies.
    pub min_finished: Option<i64>,
}

impl RunLimits {
    /// Limits from a door's text; blank means "none". Bad input names the
    /// field (HTTP 422, CLI exit 2).
    pub fn parse(
        max_concurrency: Option<&str>,
        max_errors: Option<&str>,
        min_finished: Option<&str>,
    ) -> Result<RunLimits> {
        fn blank(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let cap = blank(max_concurrency)
            .map(|v| Limit::parse("max_concurrency", v, 1))
            .transpose()?;
        let budget = blank(max_errors)
            .map(|v| Limit::parse("max_errors", v, 0))
            .transpose()?;
        let min_finished = blank(min_finished)
            .map(|v| match Limit::parse("min_finished", v, 0)? {
                Limit::Count(n) => Ok(n),
                Limit::Percent(_) => Err(Error::BadInput(
                    "min_finished is a number of tenants, not a percentage".into(),
                )),
            })
            .transpose()?;
        Ok(RunLimits {
            max_concurrency: cap.map(|l| l.to_string()),
            max_errors: budget.map(|l| l.to_string()),
            min_finished,
        })
    }

    /// These limits changed by a door's text: a field left out (None)
    /// keeps its value, an empty text removes the limit.
    pub fn changed(
        &self,
        max_concurrency: Option<&str>,
        max_errors: Option<&str>,
        min_finished: Option<&str>,
    ) -> Result<RunLimits> {
        let parsed = RunLimits::parse(max_concurrency, max_errors, min_finished)?;
        Ok(RunLimits {
            max_concurrency: match max_concurrency {
                Some(_) => parsed.max_concurrency,
                None => self.max_concurrency.clone(),
            },
            max_errors: match max_errors {
                Some(_) => parsed.max_errors,
                None => self.max_errors.clone(),
            },
            min_finished: match min_finished {
                Some(_) => parsed.min_finished,
                None => self.min_finished,
            },
        })
    }

    pub fn is_empty(&self) -> bool {
        self.max_concurrency.is_none() && self.max_errors.is_none()
    }

    fn limit(raw: &Option<String>, min: i64) -> Option<Limit> {
        raw.as_deref()
            .and_then(|r| Limit::parse("limit", r, min).ok())
    }

    /// How many of `total` tenants may run at once (None: no cap).
    pub fn cap(&self, total: i64) -> Option<i64> {
        Self::limit(&self.max_concurrency, 1).map(|l| l.of(total).max(1))
    }

    /// Whether more tenants failed than the budget allows. A percentage is
    /// of the run's tenants and applies once `min_finished` have finished.
    pub fn budget_exhausted(&self, failed: i64, finished: i64, total: i64) -> bool {
        match Self::limit(&self.max_errors, 0) {
            None => false,
            Some(Limit::Count(n)) => failed > n,
            Some(l @ Limit::Percent(_)) => {
                finished >= self.min_finished.unwrap_or(0) && failed > l.of(total)
            }
        }
    }
}

/// Whether a tenant that is about to start may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    /// The tenant may start.
    Open,
    /// The cap is reached: try again when a slot frees.
    AtCapacity,
    /// The run is paused: try again after resume.
    Paused,
    /// The error budget is spent: this tenant ends `not_started`.
    Closed,
}

/// What the gate decides on: the run as read under its row's lock.
#[derive(Debug, Clone, Default)]
pub struct GateInputs {
    pub limits: RunLimits,
    pub paused: bool,
    pub stopped: bool,
    pub total: i64,
    /// Tenants running now, the one asking included.
    pub running: i64,
}

impl GateInputs {
    pub fn decide(&self) -> GateDecision {
        if self.stopped {
            GateDecision::Closed
        } else if self.paused {
            GateDecision::Paused
        } else if self
            .limits
            .cap(self.total)
            .is_some_and(|cap| self.running > cap)
        {
            GateDecision::AtCapacity
        } else {
            GateDecision::Open
        }
    }
}

/// Rate so far and time remaining of a run that has expected items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Estimate {
    pub items_per_second: f64,
    pub seconds_remaining: Option<i64>,
}

/// The estimate from items done since the run started: None before the
/// run started, without expected items, or before a second has passed.
pub fn estimate(
    items_expected: Option<i64>,
    items_done: i64,
    started_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Estimate> {
    let expected = items_expected?;
    let elapsed_ms = (now - started_at?).num_milliseconds();
    if elapsed_ms < 1_000 {
        return None;
    }
    let rate = items_done.max(0) as f64 * 1_000.0 / elapsed_ms as f64;
    let left = (expected - items_done).max(0);
    let seconds_remaining = if left == 0 {
        Some(0)
    } else if rate > 0.0 {
        Some((left as f64 / rate).ceil() as i64)
    } else {
        None
    };
    Some(Estimate {
        items_per_second: (rate * 100.0).round() / 100.0,
        seconds_remaining,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn limits_parse_counts_and_percentages() {
        assert_eq!(Limit::parse("c", "10", 1).unwrap(), Limit::Count(10));
        assert_eq!(Limit::parse("c", " 25% ", 1).unwrap(), Limit::Percent(25));
        for bad in [
            "0",
            "abc",
            "150%",
            "",
            "%",
            "-1",
            "1.5",
            "0%",
            "99999999999",
        ] {
            assert!(Limit::parse("c", bad, 1).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Limit::parse("e", "0", 0).unwrap(), Limit::Count(0));
        assert!(RunLimits::parse(None, None, Some("5%")).is_err());
        let l = RunLimits::parse(Some("10%"), Some(" "), None).unwrap();
        assert_eq!(l.max_concurrency.as_deref(), Some("10%"));
        assert_eq!(l.max_errors, None);
    }

    #[test]
    fn a_percentage_cap_never_rounds_to_zero() {
        let l = RunLimits::parse(Some("10%"), None, None).unwrap();
        assert_eq!(l.cap(5), Some(1));
        assert_eq!(l.cap(1000), Some(100));
        assert_eq!(RunLimits::default().cap(10), None);
    }

    #[test]
    fn budget_counts_and_percentages_after_min_finished() {
        let count = RunLimits::parse(None, Some("2"), None).unwrap();
        assert!(!count.budget_exhausted(2, 5, 10));
        assert!(count.budget_exhausted(3, 5, 10));
        let pct = RunLimits::parse(None, Some("10%"), Some("5")).unwrap();
        assert!(!pct.budget_exhausted(3, 4, 20), "before min_finished");
        assert!(pct.budget_exhausted(3, 5, 20));
        assert!(!pct.budget_exhausted(2, 5, 20));
    }

    #[test]
    fn gate_order_stop_then_pause_then_cap() {
        let mut v = GateInputs {
            limits: RunLimits::parse(Some("2"), None, None).unwrap(),
            total: 10,
            running: 2,
            ..GateInputs::default()
        };
        assert_eq!(v.decide(), GateDecision::Open);
        v.running = 3;
        assert_eq!(v.decide(), GateDecision::AtCapacity);
        v.paused = true;
        assert_eq!(v.decide(), GateDecision::Paused);
        v.stopped = true;
        assert_eq!(v.decide(), GateDecision::Closed);
    }

    #[test]
    fn estimate_from_rate_so_far() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = estimate(Some(1000), 250, Some(t0), t0 + Duration::seconds(50)).unwrap();
        assert_eq!(e.items_per_second, 5.0);
        assert_eq!(e.seconds_remaining, Some(150));
        assert_eq!(
            estimate(Some(10), 0, Some(t0), t0 + Duration::seconds(5))
                .unwrap()
                .seconds_remaining,
            None
        );
        assert_eq!(
            estimate(Some(10), 10, Some(t0), t0 + Duration::seconds(5))
                .unwrap()
                .seconds_remaining,
            Some(0)
        );
        assert!(estimate(None, 10, Some(t0), t0 + Duration::seconds(5)).is_none());
        assert!(estimate(Some(10), 1, Some(t0), t0).is_none());
    }
}
