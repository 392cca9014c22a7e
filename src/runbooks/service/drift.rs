//! Whether a start still matches the preflight the operator reviewed: a
//! fresh count that moved by more than a few percent, or an active run that
//! came or went, is shown before anything starts.

use super::Preflight;

/// Beyond this change (in percent) a count no longer matches what was reviewed.
pub const DRIFT_PERCENT: i64 = 5;

/// The figures an operator saw before confirming a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reviewed {
    pub tenants: i64,
    pub items: i64,
    pub active_run_id: Option<i64>,
}

/// One way the fresh preflight differs from what was reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    Items { was: i64, now: i64 },
    Tenants { was: i64, now: i64 },
    NoLongerActive(i64),
    NowActive(i64),
    StartedMeanwhile(i64),
    NothingLeft,
}

/// How far `now` is from `base`, as a percentage of `base` (0 when both are
/// 0; 100 when only `base` is 0).
pub fn change_percent(base: i64, now: i64) -> i64 {
    if base == now {
        0
    } else if base == 0 {
        100
    } else {
        ((now - base).abs() * 100) / base.abs()
    }
}

impl Preflight {
    /// What changed since `reviewed` was counted; empty when the start may go.
    pub fn drift_since(&self, reviewed: &Reviewed) -> Vec<Drift> {
        let mut changes = Vec::new();
        if change_percent(reviewed.items, self.items_pending) > DRIFT_PERCENT {
            changes.push(Drift::Items {
                was: reviewed.items,
                now: self.items_pending,
            });
        }
        if change_percent(reviewed.tenants, self.tenants) > DRIFT_PERCENT {
            changes.push(Drift::Tenants {
                was: reviewed.tenants,
                now: self.tenants,
            });
        }
        match (reviewed.active_run_id, self.active_run_id) {
            (Some(a), None) => changes.push(Drift::NoLongerActive(a)),
            (Some(a), Some(b)) if a != b => changes.push(Drift::NowActive(b)),
            (None, Some(b)) => changes.push(Drift::StartedMeanwhile(b)),
            _ => {}
        }
        if self.items_pending == 0 && self.active_run_id.is_none() && reviewed.items > 0 {
            changes.push(Drift::NothingLeft);
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_measured_against_the_first_figure() {
        assert_eq!(change_percent(100, 103), 3);
        assert_eq!(change_percent(100, 90), 10);
        assert_eq!(change_percent(0, 0), 0);
        assert_eq!(change_percent(0, 5), 100);
    }
}
