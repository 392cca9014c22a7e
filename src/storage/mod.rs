//! Storage: the one seam to the database.
//!
//! The backend is picked once from `DATABASE_URL`: a `SqlitePool` or a `PgPool`,
//! each with its own migrations folder. Statements are written once where both
//! dialects agree (both accept `$1` placeholders, `ON CONFLICT`, `RETURNING` and
//! partial indexes) and per backend where they do not ([`Db::pick`]).

pub mod accounts;
pub mod alerts;
pub mod console;
pub mod directory;
pub mod queue;
pub mod runs;
pub mod seed;
pub mod sessions;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

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

/// A bound statement argument. Kept to the few types the schema uses.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Bool(bool),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        Arg::OptTime(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// `args![a, b, c]` builds the argument list of a statement.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::storage::Arg::from($a)),*] };
}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::OptTime(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row type that decodes on both backends.
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// The statement verbs, written once for a pool (`&self`) and once for a
/// transaction (`&mut self`); `$ex` turns the variant's value into an executor.
macro_rules! statement_verbs {
    ($recv:ident, $($arm:ident => |$v:ident| $ex:expr),*) => {
        statement_verbs!(@fns $recv, $($arm => |$v| $ex),*);
    };
    (@fns pool, $($arm:ident => |$v:ident| $ex:expr),*) => {
        pub async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
            match self { $(Self::$arm($v) => Ok(bind_args!(sqlx::query(sql), args).execute($ex).await?.rows_affected()),)* }
        }
        pub async fn fetch_all<T: Row>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_all($ex).await,)* }
        }
        pub async fn fetch_optional<T: Row>(&self, sql: &str, args: Vec<Arg>) -> Result<Option<T>, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_optional($ex).await,)* }
        }
        pub async fn fetch_one<T: Row>(&self, sql: &str, args: Vec<Arg>) -> Result<T, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_one($ex).await,)* }
        }
        /// One value from one row (`SELECT count(*) …`).
        pub async fn scalar<T>(&self, sql: &str, args: Vec<Arg>) -> Result<T, sqlx::Error>
        where
            (T,): Row,
        {
            Ok(self.fetch_one::<(T,)>(sql, args).await?.0)
        }
    };
    (@fns tx, $($arm:ident => |$v:ident| $ex:expr),*) => {
        pub async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, sqlx::Error> {
            match self { $(Self::$arm($v) => Ok(bind_args!(sqlx::query(sql), args).execute($ex).await?.rows_affected()),)* }
        }
        pub async fn fetch_all<T: Row>(&mut self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_all($ex).await,)* }
        }
        pub async fn fetch_optional<T: Row>(&mut self, sql: &str, args: Vec<Arg>) -> Result<Option<T>, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_optional($ex).await,)* }
        }
        pub async fn fetch_one<T: Row>(&mut self, sql: &str, args: Vec<Arg>) -> Result<T, sqlx::Error> {
            match self { $(Self::$arm($v) => bind_args!(sqlx::query_as::<_, T>(sql), args).fetch_one($ex).await,)* }
        }
        /// One value from one row (`SELECT count(*) …`).
        pub async fn scalar<T>(&mut self, sql: &str, args: Vec<Arg>) -> Result<T, sqlx::Error>
        where
            (T,): Row,
        {
            Ok(self.fetch_one::<(T,)>(sql, args).await?.0)
        }
    };
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
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction for queue bookkeeping and chunk work: on
    /// PostgreSQL it does not wait for its commit to reach disk. A commit
    /// lost to a database crash takes everything after it too (the log is
    /// sequential), and the job it belonged to is simply run again.
    pub async fn begin_relaxed(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await?,
            ),
        })
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.scalar::<i64>("SELECT 1", vec![]).await.map(|_| ())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    statement_verbs!(pool, Sqlite => |p| p, Postgres => |p| p);
}

/// The statement verbs of a pool and of a transaction, so a storage function
/// can run alone (`&mut db.clone()`) or inside the caller's transaction.
pub trait Exec: Send {
    fn backend(&self) -> Backend;

    fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    fn execute(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    fn fetch_all<T: Row>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send;
    fn fetch_optional<T: Row>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send;
    fn fetch_one<T: Row>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<T, sqlx::Error>> + Send;
}

macro_rules! impl_exec {
    ($t:ty) => {
        impl Exec for $t {
            fn backend(&self) -> Backend {
                <$t>::backend(self)
            }
            fn execute(
                &mut self,
                sql: &str,
                args: Vec<Arg>,
            ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send {
                <$t>::execute(self, sql, args)
            }
            fn fetch_all<T: Row>(
                &mut self,
                sql: &str,
                args: Vec<Arg>,
            ) -> impl Future<Output = Result<Vec<T>, sqlx::Error>> + Send {
                <$t>::fetch_all(self, sql, args)
            }
            fn fetch_optional<T: Row>(
                &mut self,
                sql: &str,
                args: Vec<Arg>,
            ) -> impl Future<Output = Result<Option<T>, sqlx::Error>> + Send {
                <$t>::fetch_optional(self, sql, args)
            }
            fn fetch_one<T: Row>(
                &mut self,
                sql: &str,
                args: Vec<Arg>,
            ) -> impl Future<Output = Result<T, sqlx::Error>> + Send {
                <$t>::fetch_one(self, sql, args)
            }
        }
    };
}
impl_exec!(Db);
impl_exec!(Tx);

/// A write transaction of either backend.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self {
            Tx::Sqlite(_) => sqlite,
            Tx::Postgres(_) => postgres,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }

    statement_verbs!(tx, Sqlite => |t| &mut **t, Postgres => |t| &mut **t);
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
