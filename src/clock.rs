//! Time, injectable so tests drive leases, backoff and quiet hours without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

pub type SharedClock = Arc<dyn Clock>;

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told to.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Another clock plus an offset in milliseconds. In production the offset is
/// the distance from this machine's clock to the database's, measured at
/// start and refreshed, so every process stamps leases, `run_at` and lock
/// expiry on the database's timeline; tests use a fixed offset as a skew.
pub struct OffsetClock {
    base: SharedClock,
    offset_ms: AtomicI64,
}

impl OffsetClock {
    pub fn new(base: SharedClock, offset_ms: i64) -> Arc<OffsetClock> {
        Arc::new(OffsetClock {
            base,
            offset_ms: AtomicI64::new(offset_ms),
        })
    }

    /// The clock the offset is added to.
    pub fn base(&self) -> &SharedClock {
        &self.base
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        self.base.now() + Duration::milliseconds(self.offset_ms())
    }
}

/// `base` running `skew_ms` ahead (behind when negative): a machine whose
/// clock is off, for tests of several machines on one database.
pub fn skewed(base: SharedClock, skew_ms: i64) -> SharedClock {
    if skew_ms == 0 {
        base
    } else {
        OffsetClock::new(base, skew_ms)
    }
}

/// One reading of a remote clock taken between two readings of the local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSample {
    pub sent_ms: i64,
    pub remote_ms: i64,
    pub received_ms: i64,
}

impl ClockSample {
    pub fn round_trip_ms(&self) -> i64 {
        self.received_ms - self.sent_ms
    }

    /// What to add to the local clock to read the remote one, assuming the
    /// remote reading was taken halfway through the round trip; wrong by at
    /// most half the round trip.
    pub fn offset_ms(&self) -> i64 {
        self.remote_ms - (self.sent_ms + self.round_trip_ms() / 2)
    }

    /// Of several samples, the one with the shortest round trip (the least
    /// uncertain offset).
    pub fn best(samples: &[ClockSample]) -> Option<ClockSample> {
        samples.iter().copied().min_by_key(|s| s.round_trip_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
    }

    #[test]
    fn an_offset_clock_follows_its_base_plus_the_offset() {
        let base = ManualClock::new(at(1_000_000));
        let clock = OffsetClock::new(base.clone(), 300_000);
        assert_eq!(clock.now_ms(), 1_300_000);
        base.advance(Duration::milliseconds(5));
        clock.set_offset_ms(-20);
        assert_eq!(clock.now_ms(), 1_000_000 + 5 - 20);
        assert_eq!(skewed(base.clone(), -7).now_ms(), 1_000_005 - 7);
    }

    #[test]
    fn a_sample_splits_the_round_trip_and_the_shortest_wins() {
        let slow = ClockSample {
            sent_ms: 1_000,
            remote_ms: 301_500,
            received_ms: 1_400,
        };
        assert_eq!(slow.round_trip_ms(), 400);
        assert_eq!(slow.offset_ms(), 301_500 - 1_200);
        let fast = ClockSample {
            sent_ms: 2_000,
            remote_ms: 302_001,
            received_ms: 2_002,
        };
        assert_eq!(fast.offset_ms(), 300_000);
        assert_eq!(ClockSample::best(&[slow, fast]), Some(fast));
        assert_eq!(ClockSample::best(&[]), None);
    }
}
