//! Storage: the one seam to the database.
//!
//! The backend is picked once from `DATABASE_URL`: a `SqlitePool` or a `PgPool`,
//! each with its own migrations folder. Statements are written once where both
//! dialects agree (both accept `$1` placeholders, `ON CONFLICT`, `RETURNING` and
//! partial indexes) and per backend where they do not ([`Db::pick`]).

pub mod accounts;
pub mod alert_edits;
pub mod alerts;
pub mod audit;
pub mod clock;
pub mod directory;
mod exec;
pub mod findings;
pub mod notifications;
pub mod queue;
pub mod runs;
pub mod seed;
pub mod sessions;
pub mod tenant_locks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

pub use exec::{Arg, Exec, Row, SqliteTx, Tx, id_list, in_id_list};

/// The default database: a SQLite file in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tenantatlas.db";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    BadUrl(String),
    #[error("cannot open database {url}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of one backend.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
}

impl Db {
    /// Opens the database named by `url` and applies its migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        let db = Db::open(url, max_connections).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Opens the database without migrating it.
    pub async fn open(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        let unreachable = |source| ConnectError::Unreachable {
            url: mask_url(url),
            source,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| {
                    ConnectError::BadUrl(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))
                })?
                // Long chunked statements are expected; tracing spans time them.
                .disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(30))
                // No ping before every checkout: it is a round trip per
                // transaction. A connection the server dropped fails its next
                // statement once; jobs retry, and idle connections are recycled.
                .test_before_acquire(false)
                .idle_timeout(Duration::from_secs(300))
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| {
                    ConnectError::BadUrl(format!("DATABASE_URL is not a valid SQLite URL: {e}"))
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .disable_statement_logging();
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(2, 8))
                .acquire_timeout(Duration::from_secs(60))
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(ConnectError::BadUrl(format!(
                "DATABASE_URL must start with sqlite: or postgres:// (got {:?})",
                mask_url(url)
            )))
        }
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The statement for this backend, where the dialects differ.
    pub fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self {
            Db::Sqlite(_) => sqlite,
            Db::Postgres(_) => postgres,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so it waits for the busy timeout instead of failing
    /// half-way when another connection writes.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(sqlite_begin(p).await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction for queue bookkeeping and chunk work: on
    /// PostgreSQL it does not wait for its commit to reach disk. A commit
    /// lost to a database crash takes everything after it too (the log is
    /// sequential), and the job it belonged to is simply run again.
    pub async fn begin_relaxed(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(sqlite_begin(p).await?),
            Db::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await?,
            ),
        })
    }

    /// A round trip to the database. The literal is cast so both backends
    /// answer a 64-bit integer (PostgreSQL's plain `1` is a 32-bit one).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.scalar::<i64>("SELECT CAST(1 AS BIGINT)", vec![])
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// SQLite lets one writer in at a time; a connection that finds the file
/// locked sleeps in its busy handler (1, 2, 5, 10 … ms) and tries again, so
/// two job loops taking turns lose milliseconds per transaction. Writers of
/// this process therefore queue for their turn (first come, first served)
/// before `BEGIN IMMEDIATE`; other processes still meet the busy handler.
/// A turn not given within the busy timeout is not waited for any longer.
async fn sqlite_begin(pool: &SqlitePool) -> Result<SqliteTx, sqlx::Error> {
    let line = writers_of(pool.connect_options().get_filename());
    let turn = tokio::time::timeout(Duration::from_secs(30), line.lock_owned())
        .await
        .ok();
    Ok(SqliteTx {
        tx: pool.begin_with("BEGIN IMMEDIATE").await?,
        _turn: turn,
    })
}

/// The line of writers to one SQLite file in this process.
fn writers_of(file: &std::path::Path) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    type Lines =
        std::collections::HashMap<std::path::PathBuf, std::sync::Arc<tokio::sync::Mutex<()>>>;
    static LINES: std::sync::LazyLock<std::sync::Mutex<Lines>> =
        std::sync::LazyLock::new(Default::default);
    let mut lines = LINES.lock().unwrap_or_else(|e| e.into_inner());
    lines.entry(file.to_path_buf()).or_default().clone()
}

/// Hides the password of a database URL, for logs and messages.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_url;

    #[test]
    fn masks_the_password_only() {
        assert_eq!(
            mask_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(mask_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(mask_url("sqlite://x.db"), "sqlite://x.db");
    }
}
