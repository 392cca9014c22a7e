//! How idle workers learn of new jobs: PostgreSQL `NOTIFY` from the
//! enqueueing transaction, and a cheap read-only look on both backends.

use crate::args;
use crate::storage::Exec;

/// The PostgreSQL channel idle workers listen on.
pub const JOBS_CHANNEL: &str = "tenantatlas_jobs";

/// Wakes idle workers of every process once the enqueueing transaction
/// commits (PostgreSQL `NOTIFY`); SQLite's workers look by themselves.
pub(crate) async fn notify_enqueued(ex: &mut impl Exec) -> Result<(), sqlx::Error> {
    if ex.backend() == crate::storage::Backend::Postgres {
        ex.execute("SELECT pg_notify('tenantatlas_jobs', '')", args![])
            .await?;
    }
    Ok(())
}

/// Whether a job is ready or a lease has expired: the idle workers' cheap,
/// read-only look.
pub async fn anything_to_claim(ex: &mut impl Exec, now_ms: i64) -> Result<bool, sqlx::Error> {
    let (n,) = ex
        .fetch_one::<(i64,)>(
            "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE status IN ('available', 'retryable') AND run_at_ms <= $1) \
                 OR EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until_ms < $1) \
             THEN 1 ELSE 0 END AS BIGINT)",
            args![now_ms],
        )
        .await?;
    Ok(n == 1)
}

/// Whether anything may have been committed since the last call, told by the
/// SQLite write-ahead log's size and modification time: every commit of any
/// process appends to it (or restarts it after a checkpoint). An idle
/// worker's look costs a `stat` instead of a query while nothing is written.
/// Always true on PostgreSQL and for a database without a file.
pub struct CommitProbe {
    wal: Option<std::path::PathBuf>,
    seen: Option<(u64, std::time::SystemTime)>,
}

impl CommitProbe {
    pub fn new(db: &crate::storage::Db) -> CommitProbe {
        let wal = match db {
            crate::storage::Db::Sqlite(pool) => {
                let mut name = pool.connect_options().get_filename().as_os_str().to_owned();
                name.push("-wal");
                Some(std::path::PathBuf::from(name))
            }
            crate::storage::Db::Postgres(_) => None,
        };
        CommitProbe { wal, seen: None }
    }

    pub fn changed(&mut self) -> bool {
        let Some(wal) = &self.wal else {
            return true;
        };
        let Some(now) = std::fs::metadata(wal)
            .ok()
            .and_then(|m| Some((m.len(), m.modified().ok()?)))
        else {
            return true;
        };
        let changed = self.seen != Some(now);
        self.seen = Some(now);
        changed
    }
}

/// Hears enqueue notifications (PostgreSQL `LISTEN`).
pub struct JobListener(sqlx::postgres::PgListener);

impl JobListener {
    /// None on SQLite, which has no notifications.
    pub async fn connect(db: &crate::storage::Db) -> Option<Result<JobListener, sqlx::Error>> {
        let crate::storage::Db::Postgres(pool) = db else {
            return None;
        };
        Some(
            async {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(JOBS_CHANNEL).await?;
                Ok(JobListener(listener))
            }
            .await,
        )
    }

    /// Waits for the next notification; reconnects after a lost connection.
    pub async fn recv(&mut self) -> Result<(), sqlx::Error> {
        self.0.recv().await.map(|_| ())
    }
}
