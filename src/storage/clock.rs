//! The database's clock: the one timeline every process stamps queue times
//! on, whatever the clocks of the machines its workers run on say.

use crate::clock::{ClockSample, SharedClock};
use crate::storage::Db;

/// Milliseconds since the epoch by the database server's clock. PostgreSQL's
/// `clock_timestamp()` is the time of reading, not of the transaction's start.
const NOW_SQLITE: &str =
    "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
const NOW_POSTGRES: &str =
    "SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)";

/// The database's time now, in epoch milliseconds.
pub async fn now_ms(db: &Db) -> Result<i64, sqlx::Error> {
    db.scalar::<i64>(db.pick(NOW_SQLITE, NOW_POSTGRES), vec![])
        .await
}

/// Reads the database's clock `tries` times, each between two readings of
/// `local`, and keeps the reading with the shortest round trip.
pub async fn sample(
    db: &Db,
    local: &SharedClock,
    tries: usize,
) -> Result<ClockSample, sqlx::Error> {
    let mut samples = Vec::with_capacity(tries.max(1));
    for _ in 0..tries.max(1) {
        let sent_ms = local.now_ms();
        let remote_ms = now_ms(db).await?;
        let received_ms = local.now_ms();
        samples.push(ClockSample {
            sent_ms,
            remote_ms,
            received_ms,
        });
    }
    ClockSample::best(&samples).ok_or(sqlx::Error::RowNotFound)
}

/// Whether the pool was closed (the process is shutting down).
pub fn is_closed(db: &Db) -> bool {
    match db {
        Db::Sqlite(p) => p.is_closed(),
        Db::Postgres(p) => p.is_closed(),
    }
}
