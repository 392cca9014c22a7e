//! What a run's tenants came to, in parts that add up to its total: the one
//! reading of progress every door shows (View run, the dashboard, the runs
//! list, notifications, alerts, the CLI, the customer plane).
//!
//! The research note's completion rule stays inside the run service: a run
//! completes once `processed >= total`, and a tenant the error budget never
//! started counts as processed there. A person is told something else: how
//! many tenants *ran* (succeeded or failed), how many were not started and
//! how many were cancelled. So a run stopped by its budget or cancelled never
//! reads "100%"; only a run whose every tenant ran does.

use serde::{Deserialize, Serialize};

use crate::domain::figures::count;

/// A run's tenants by what became of them. `succeeded + failed + not_started
/// + cancelled + remaining == total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// Ended without starting: the error budget was spent first.
    pub not_started: i64,
    /// Ended without starting: the run was cancelled first.
    pub cancelled: i64,
    /// Still to run (queued or running) while the run is active.
    pub remaining: i64,
    /// Tenants that ran (succeeded or failed) in percent of the total,
    /// rounded down: 100 only when every tenant ran.
    pub percent: i64,
}

/// Where a run is, as far as its progress is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Queued, running or paused.
    Going,
    /// Completed by its tenants' results or its error budget.
    Ended,
    /// Cancelled: its unprocessed tenants were cancelled.
    Cancelled,
}

/// The counters a run keeps (the completion rule reads `processed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SummaryCounts {
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub items_updated: i64,
    pub items_skipped: i64,
    pub items_failed: i64,
}

impl Progress {
    /// The parts of a run with these counts and not-started tenants.
    pub fn of(c: &SummaryCounts, not_started: i64, stage: Stage) -> Progress {
        let unprocessed = (c.total - c.processed).max(0);
        let (cancelled, remaining) = match stage {
            Stage::Cancelled => (unprocessed, 0),
            _ => (0, unprocessed),
        };
        let ran = c.succeeded + c.failed;
        let percent = match (c.total > 0, stage) {
            (true, _) => (ran * 100 / c.total).clamp(0, 100),
            (false, Stage::Ended) => 100,
            (false, _) => 0,
        };
        Progress {
            total: c.total,
            succeeded: c.succeeded,
            failed: c.failed,
            not_started,
            cancelled,
            remaining,
            percent,
        }
    }

    /// Tenants that ran: succeeded or failed.
    pub fn ran(&self) -> i64 {
        self.succeeded + self.failed
    }

    /// `973 of 2,001 tenants ran: 950 succeeded, 23 failed, 1,028 not started`.
    /// Succeeded and failed are always said; the other parts when present.
    pub fn sentence(&self) -> String {
        let noun = if self.total == 1 { "tenant" } else { "tenants" };
        format!(
            "{} of {} {noun} ran: {}",
            count(self.ran()),
            count(self.total),
            self.parts_text()
        )
    }

    /// `950 succeeded, 23 failed, 1,028 not started`.
    pub fn parts_text(&self) -> String {
        self.parts()
            .iter()
            .map(|(n, words)| format!("{} {words}", count(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The parts to name: succeeded and failed always, the rest when present.
    pub fn parts(&self) -> Vec<(i64, &'static str)> {
        let mut parts = vec![(self.succeeded, "succeeded"), (self.failed, "failed")];
        for (n, words) in [
            (self.not_started, "not started"),
            (self.cancelled, "cancelled"),
            (self.remaining, "still to run"),
        ] {
            if n > 0 {
                parts.push((n, words));
            }
        }
        parts
    }

    /// Each part's share of the bar in percent (succeeded, failed, not
    /// started, cancelled); a part present is at least half a percent wide,
    /// so one failure among 10,000 tenants still shows.
    pub fn bar(&self) -> BarParts {
        if self.total <= 0 {
            return BarParts::default();
        }
        let share = |n: i64| {
            if n <= 0 {
                0.0
            } else {
                ((n as f64) * 100.0 / self.total as f64).max(0.5)
            }
        };
        BarParts {
            succeeded: share(self.succeeded),
            failed: share(self.failed),
            not_started: share(self.not_started),
            cancelled: share(self.cancelled),
        }
    }
}

/// Widths in percent of a progress bar's coloured parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct BarParts {
    pub succeeded: f64,
    pub failed: f64,
    pub not_started: f64,
    pub cancelled: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(total: i64, processed: i64, succeeded: i64, failed: i64) -> SummaryCounts {
        SummaryCounts {
            total,
            processed,
            succeeded,
            failed,
            ..SummaryCounts::default()
        }
    }

    #[test]
    fn a_budget_stopped_run_is_not_complete() {
        // 2,001 tenants, 1,028 never started: processed is the total
        // (the completion rule), but only 973 ran.
        let p = Progress::of(&counts(2001, 2001, 950, 23), 1028, Stage::Ended);
        assert_eq!(p.ran(), 973);
        assert_eq!(p.percent, 48);
        assert_eq!(p.remaining, 0);
        assert_eq!(
            p.sentence(),
            "973 of 2,001 tenants ran: 950 succeeded, 23 failed, 1,028 not started"
        );
    }

    #[test]
    fn a_cancelled_run_names_its_cancelled_tenants() {
        let p = Progress::of(&counts(1001, 8, 8, 0), 0, Stage::Cancelled);
        assert_eq!(p.cancelled, 993);
        assert_eq!(p.percent, 0);
        assert_eq!(
            p.sentence(),
            "8 of 1,001 tenants ran: 8 succeeded, 0 failed, 993 cancelled"
        );
    }

    #[test]
    fn only_a_run_whose_every_tenant_ran_reads_100() {
        let done = Progress::of(&counts(3, 3, 2, 1), 0, Stage::Ended);
        assert_eq!(done.percent, 100);
        // 999 of 1,000 rounds down, never up to 100.
        let almost = Progress::of(&counts(1000, 999, 999, 0), 0, Stage::Going);
        assert_eq!(almost.percent, 99);
        assert_eq!(almost.remaining, 1);
        assert_eq!(
            almost.sentence(),
            "999 of 1,000 tenants ran: 999 succeeded, 0 failed, 1 still to run"
        );
        let one = Progress::of(&counts(1, 0, 0, 0), 0, Stage::Going);
        assert_eq!(
            one.sentence(),
            "0 of 1 tenant ran: 0 succeeded, 0 failed, 1 still to run"
        );
    }

    #[test]
    fn the_parts_add_up_and_a_present_part_is_visible() {
        let p = Progress::of(&counts(2001, 2001, 950, 23), 1028, Stage::Ended);
        assert_eq!(
            p.succeeded + p.failed + p.not_started + p.cancelled + p.remaining,
            p.total
        );
        let bar = Progress::of(&counts(10_000, 10_000, 9_999, 1), 0, Stage::Ended).bar();
        assert!(bar.failed >= 0.5);
        assert_eq!(bar.not_started, 0.0);
    }
}
