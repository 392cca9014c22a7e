//! The database's clock for every process: this machine's clock plus the
//! offset to the database server's, measured when the process opens the
//! database and refreshed while it runs. Leases, `run_at` and lock expiry are
//! compared in SQL against times the processes stamp; on one timeline, two
//! worker machines whose clocks disagree neither take each other's live jobs
//! nor leave a dead one waiting.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{OffsetClock, SharedClock};
use crate::storage::{self, Db};

/// How often the offset is measured again (clocks drift, and NTP steps them).
pub const REFRESH: Duration = Duration::from_secs(60);

/// Readings per measurement; the one with the shortest round trip counts.
const TRIES: usize = 3;

/// An offset larger than this is worth a warning: the machine's clock is off.
const WARN_MS: i64 = 1_000;

const OFFSET_SERIES: &str = "tenantatlas_clock_offset_ms";
const OFFSET_HELP: &str = "Milliseconds this process adds to its machine's clock to read the database's; refreshed every minute.";

/// `local` on the database's timeline: measured once now, then every
/// [`REFRESH`] until the pool is closed. A failed measurement keeps the last
/// offset (zero at first) and is tried again at the next refresh.
pub async fn follow(db: &Db, local: SharedClock) -> SharedClock {
    let clock = OffsetClock::new(local, 0);
    if let Err(e) = measure(db, &clock).await {
        tracing::warn!(error = %e, "reading the database's clock failed; using this machine's until the next try");
    }
    let (db, refreshed) = (db.clone(), clock.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(REFRESH).await;
            if storage::clock::is_closed(&db) {
                return;
            }
            if let Err(e) = measure(&db, &refreshed).await {
                tracing::warn!(error = %e, "reading the database's clock failed; keeping the last offset");
            }
        }
    });
    clock
}

/// Measures the offset of `clock`'s base to the database and sets it.
pub async fn measure(db: &Db, clock: &Arc<OffsetClock>) -> Result<i64, sqlx::Error> {
    let sample = storage::clock::sample(db, clock.base(), TRIES).await?;
    let offset = sample.offset_ms();
    let before = clock.offset_ms();
    clock.set_offset_ms(offset);
    metrics::describe_gauge!(OFFSET_SERIES, OFFSET_HELP);
    metrics::gauge!(OFFSET_SERIES).set(offset as f64);
    if offset.abs() > WARN_MS && (offset - before).abs() > WARN_MS {
        tracing::warn!(
            offset_ms = offset,
            round_trip_ms = sample.round_trip_ms(),
            "this machine's clock is off the database's; queue times follow the database"
        );
    } else {
        tracing::debug!(
            offset_ms = offset,
            round_trip_ms = sample.round_trip_ms(),
            "measured the database's clock"
        );
    }
    Ok(offset)
}
