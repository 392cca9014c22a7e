//! Test support: a fresh database per test on either backend, an app with a
//! manual clock, and helpers to drive the queue a step at a time.

pub mod browser;
pub mod cli;
pub mod receivers;
pub mod runs;
pub mod web;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use tenantatlas::app::{App, Settings};
use tenantatlas::clock::ManualClock;
use tenantatlas::queue::{Step, Worker};
use tenantatlas::storage::{self, Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database; dropped by [`TestDb::teardown`].
pub struct TestDb {
    pub url: String,
    #[allow(dead_code)]
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    admin_url: Option<String>,
    name: Option<String>,
}

/// The PostgreSQL server tests use: `TEST_DATABASE_URL`. Without it, outside
/// CI, PostgreSQL tests are skipped (returns None); in CI they fail.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => panic!("TEST_DATABASE_URL must be set in CI"),
        _ => {
            eprintln!("TEST_DATABASE_URL is not set: skipping a PostgreSQL test");
            None
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    // postgres://user@host:port/db?params → replace db
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let root = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|j| j + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(TestDb {
                    url,
                    backend,
                    _dir: Some(dir),
                    admin_url: None,
                    name: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("ta_test_{}", uuid::Uuid::new_v4().simple());
                let db = Db::open(&admin, 2)
                    .await
                    .expect("PostgreSQL from TEST_DATABASE_URL must be reachable");
                db.execute(&format!("CREATE DATABASE {name}"), vec![])
                    .await
                    .expect("create test database");
                db.close().await;
                let url = with_database(&admin, &name);
                Some(TestDb {
                    url,
                    backend,
                    _dir: None,
                    admin_url: Some(admin),
                    name: Some(name),
                })
            }
        }
    }

    pub async fn teardown(self) {
        if let (Some(admin), Some(name)) = (&self.admin_url, &self.name)
            && let Ok(db) = Db::open(admin, 2).await
        {
            let _ = db
                .execute(
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    vec![],
                )
                .await;
            db.close().await;
        }
    }
}

/// The service on a test database, with a clock that moves when told.
pub struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

pub fn test_settings() -> Settings {
    Settings {
        job_lease_ms: 30_000,
        max_attempts: 3,
        backoff_base_ms: 1_000,
        backoff_max_ms: 60_000,
        locked_retry_ms: 5_000,
        chunk_size: 10,
        poll_interval_ms: 20,
    }
}

/// Alert settings whose webhooks may reach the tests' receivers on loopback.
pub fn loopback_alerts() -> tenantatlas::alerts::AlertSettings {
    tenantatlas::alerts::AlertSettings {
        webhook_policy: tenantatlas::alerts::EgressPolicy::allowing("127.0.0.1,localhost"),
        ..Default::default()
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<TestApp> {
        Self::with_settings(backend, test_settings()).await
    }

    pub async fn with_settings(backend: Backend, settings: Settings) -> Option<TestApp> {
        let db = TestDb::new(backend).await?;
        let pool = Db::connect(&db.url, 10).await.expect("connect and migrate");
        let clock = ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("time"),
        );
        let app = App::with_alerts(pool, clock.clone(), settings, loopback_alerts());
        storage::directory::bootstrap(&app.db, app.clock.now())
            .await
            .expect("bootstrap");
        Some(TestApp { app, clock, db })
    }

    pub async fn teardown(self) {
        self.app.db.close().await;
        self.db.teardown().await;
    }

    pub fn worker(&self) -> Worker {
        self.app.worker()
    }

    /// The same database and clock with other alert settings.
    pub fn app_with_alerts(&self, alerts: tenantatlas::alerts::AlertSettings) -> App {
        App::with_alerts(
            self.app.db.clone(),
            self.clock.clone(),
            (*self.app.settings).clone(),
            alerts,
        )
    }

    /// Runs jobs one at a time until none is ready; returns the steps taken.
    pub async fn drain(&self) -> Vec<Step> {
        drain(&self.app).await
    }
}

/// Runs jobs of `app` one at a time until none is ready.
pub async fn drain(app: &App) -> Vec<Step> {
    {
        let worker = app.worker();
        let mut steps = Vec::new();
        for _ in 0..100_000 {
            let step = worker.run_once().await.expect("worker step");
            if step == Step::Idle {
                return steps;
            }
            steps.push(step);
        }
        panic!("the queue never drained");
    }
}

impl TestApp {
    pub async fn seed(
        &self,
        tenants: i64,
        findings_per_tenant: i64,
        bad: i64,
    ) -> storage::seed::SeedReport {
        let ws = self.app.runbooks().workspace().await.expect("workspace");
        storage::seed::seed(
            &self.app.db,
            ws.id,
            tenants,
            findings_per_tenant,
            bad,
            self.app.clock.now(),
        )
        .await
        .expect("seed")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.app.db.scalar::<i64>(sql, vec![]).await.expect(sql)
    }

    /// Executes a statement without arguments; returns the rows it touched.
    pub async fn exec(&self, sql: &str) -> u64 {
        self.app.db.execute(sql, vec![]).await.expect(sql)
    }
}

/// Declares a test that runs once on SQLite and once on PostgreSQL:
/// `both_backends!(name, |t| async move { … })` with `t: &TestApp`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$t:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($t: &$crate::support::TestApp) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let t = $crate::support::TestApp::new($crate::support::Backend::Sqlite)
                    .await
                    .expect("sqlite");
                scenario(&t).await;
                t.teardown().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(t) =
                    $crate::support::TestApp::new($crate::support::Backend::Postgres).await
                else {
                    return;
                };
                scenario(&t).await;
                t.teardown().await;
            }
        }
    };
}

/// Splits a command line into arguments at spaces; `'…'` keeps its spaces
/// and `''` is an empty argument: `argv("--name 'On call' --note ''")`.
pub fn argv(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                current.get_or_insert_with(String::new);
            }
            ' ' if !quoted => args.extend(current.take()),
            _ => current.get_or_insert_with(String::new).push(ch),
        }
    }
    assert!(!quoted, "an unclosed quote in {line:?}");
    args.extend(current);
    args
}

#[test]
fn argv_splits_like_a_shell_line() {
    assert_eq!(
        argv("run  --reason 'ticket 7' --note '' x"),
        ["run", "--reason", "ticket 7", "--note", "", "x"]
    );
}
