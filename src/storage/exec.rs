//! The statement verbs (`execute`, `fetch_*`, `scalar`) over one argument
//! list, for a pool and for a transaction of either backend.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use super::{Backend, Db};

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
impl Db {
    statement_verbs!(pool, Sqlite => |p| p, Postgres => |p| p);
}

impl_exec!(Db);
impl_exec!(Tx);

/// A write transaction of either backend.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// A SQLite write transaction and its place in this process's line of
/// writers to the same file (see `Db::begin`).
pub struct SqliteTx {
    pub(super) tx: Transaction<'static, Sqlite>,
    pub(super) _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
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
            Tx::Sqlite(t) => t.tx.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.tx.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }

    statement_verbs!(tx, Sqlite => |t| &mut *t.tx, Postgres => |t| &mut **t);
}

/// A list of ids bound as one JSON text argument; both backends expand it to
/// rows (`json_each`, `jsonb_array_elements_text`).
pub fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// The condition "`column` is one of the ids of [`id_list`] bound as
/// `param`", in the backend's dialect. Both are literals of the caller,
/// never input.
pub fn in_id_list(backend: Backend, column: &str, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("{column} IN (SELECT value FROM json_each({param}))"),
        Backend::Postgres => format!(
            "{column} = ANY(ARRAY(SELECT v::bigint FROM jsonb_array_elements_text({param}::jsonb) v))"
        ),
    }
}
