//! The run aggregate's one lock order under fire: operators cancel, pause,
//! resume, change limits and retry runs, through the service and through the
//! HTTP API, while two workers complete the runs' tenants. No deadlock, no
//! 5xx, no error from a control, and every run's counts exact at the end.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tenantatlas::app::{App, Settings};
use tenantatlas::clock;
use tenantatlas::console::DemoSize;
use tenantatlas::domain::Capability;
use tenantatlas::error::Error;
use tenantatlas::queue::Worker;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{Outcome, RunLimits, RunStatus, TenantState};
use tenantatlas::storage::Db;
use tokio::sync::watch;

use crate::support::web::console_as;
use crate::support::{Backend, TestDb, test_settings};

use crate::support::runs::{BACKFILL, cli};
const TENANTS: i64 = 300;
/// Tenants whose findings cannot be mapped: they fail every run.
const BAD_TENANTS: i64 = 12;

/// What went wrong anywhere in the race; empty at the end.
#[derive(Clone, Default)]
struct Errors(Arc<Mutex<Vec<String>>>);

impl Errors {
    fn push(&self, what: String) {
        eprintln!("race error: {what}");
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(what);
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A control's answer: done, or refused because the run is in the wrong
    /// state for it (a race an operator loses); anything else is an error.
    fn control<T>(&self, what: &str, answer: tenantatlas::error::Result<T>) -> Option<T> {
        match answer {
            Ok(v) => Some(v),
            Err(Error::Conflict(_)) => None,
            Err(e) => {
                self.push(format!("{what}: {}", e.detail()));
                None
            }
        }
    }
}

/// Polls `check` until it holds; false when `deadline` passed first.
async fn within<F, Fut>(deadline: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A second worker process whose job loops report every failed step (the
/// first runs `Worker::run`, which only logs them).
fn job_loops(worker: Worker, loops: usize, errors: Errors, stop: watch::Receiver<bool>) {
    for n in 0..loops {
        let (worker, errors, stop) = (worker.clone(), errors.clone(), stop.clone());
        tokio::spawn(async move {
            let mut step = n;
            while !*stop.borrow() {
                step += 1;
                // Batches of several sizes and single claims, as `Worker::run`
                // mixes them.
                let ran = match step % 3 {
                    0 => worker.run_once().await.map(|s| match s {
                        tenantatlas::queue::Step::Idle => 0,
                        _ => 1,
                    }),
                    1 => worker.run_batch(32).await,
                    _ => worker.run_batch(4).await,
                };
                match ran {
                    Ok(0) => tokio::time::sleep(Duration::from_millis(10)).await,
                    Ok(_) => {}
                    Err(e) => errors.push(format!("worker step: {}", e.detail())),
                }
            }
        });
    }
}

/// One operator's controls over the HTTP API, answered 2xx or 409.
struct Api {
    client: reqwest::Client,
    base: String,
    errors: Errors,
}

impl Api {
    async fn post(&self, path: &str, body: serde_json::Value) -> Option<serde_json::Value> {
        let url = format!("{}/system/api{path}", self.base);
        let r = match self.client.post(&url).json(&body).send().await {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(format!("POST {path}: {e}"));
                return None;
            }
        };
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        match status {
            200 | 201 => serde_json::from_str(&text).ok(),
            409 => None,
            _ => {
                self.errors
                    .push(format!("POST {path} answered {status}: {text}"));
                None
            }
        }
    }
}

fn random_limits(rng: &mut impl Rng) -> (&'static str, &'static str) {
    let cap = ["", "3", "12", "40%"][rng.gen_range(0..4)];
    let errors = ["", "5", "50%"][rng.gen_range(0..3)];
    (cap, errors)
}

/// One control at random on `run_id`, through the service or the API.
async fn control(app: &App, api: &Api, errors: &Errors, run_id: i64, cancel: bool) {
    let service = app.runs();
    let mut rng = rand::thread_rng();
    let via_api = rng.gen_bool(0.5);
    let action = if cancel { 4 } else { rng.gen_range(0..4) };
    let (cap, budget) = random_limits(&mut rng);
    let path = format!("/runs/{run_id}");
    match (action, via_api) {
        (0, false) => {
            errors.control("pause", service.pause(&cli(), run_id).await);
        }
        (0, true) => {
            api.post(&format!("{path}/pause"), serde_json::json!({}))
                .await;
        }
        (1, false) => {
            errors.control("resume", service.resume(&cli(), run_id).await);
        }
        (1, true) => {
            api.post(&format!("{path}/resume"), serde_json::json!({}))
                .await;
        }
        (2 | 3, false) => {
            let limits = service
                .set_limits(&cli(), run_id, Some(cap), Some(budget), None)
                .await;
            errors.control("limits", limits);
        }
        (2 | 3, true) => {
            let body = serde_json::json!({"max_concurrency": cap, "max_errors": budget});
            api.post(&format!("{path}/limits"), body).await;
        }
        (_, false) => {
            errors.control("cancel", service.cancel(&cli(), run_id).await);
        }
        (_, true) => {
            api.post(&format!("{path}/cancel"), serde_json::json!({}))
                .await;
        }
    }
}

/// Starts the iteration's run over all tenants, alternately through the
/// service and the API, with limits of its own.
async fn start_run(app: &App, api: &Api, errors: &Errors, i: usize) -> Option<i64> {
    let (cap, budget) = [("", ""), ("8", ""), ("", "4"), ("16", "50%")][i % 4];
    if i.is_multiple_of(2) {
        let limits = RunLimits::parse(Some(cap), Some(budget), None).ok()?;
        let started = app
            .runbooks()
            .start_with_limits(&cli(), BACKFILL, &ScopeRequest::AllTenants, None, limits)
            .await;
        errors.control("start", started).map(|e| e.run.id)
    } else {
        let body = serde_json::json!({
            "scope": "all", "reason": "race", "max_concurrency": cap, "max_errors": budget
        });
        let run = api
            .post(&format!("/runbooks/{BACKFILL}/start"), body)
            .await?;
        run["id"].as_i64()
    }
}

/// A retry of a completed run's unfinished tenants, alternately through the
/// service and the API; None when it has none.
async fn start_retry(app: &App, api: &Api, errors: &Errors, of: i64, i: usize) -> Option<i64> {
    let states = [
        TenantState::Failed,
        TenantState::NotStarted,
        TenantState::Cancelled,
    ];
    if i % 2 == 1 {
        let retry = app.runs().retry(&cli(), of, &states, None).await;
        errors.control("retry", retry).map(|e| e.run.id)
    } else {
        let body = serde_json::json!({"states": ["failed", "not_started", "cancelled"]});
        let run = api.post(&format!("/runs/{of}/retry"), body).await?;
        run["id"].as_i64()
    }
}

/// Every tenant of a completed run counted exactly once, on its rows and on
/// the run; none of its jobs left queued or running.
async fn assert_exact(db: &Db, run_id: i64) {
    let q = |sql: String| async move { db.scalar::<i64>(&sql, vec![]).await.expect("count") };
    let rows = |state: &'static str| {
        q(format!(
            "SELECT count(*) FROM operation_run_tenants WHERE run_id = {run_id} AND state = '{state}'"
        ))
    };
    let run = tenantatlas::storage::runs::get(db, run_id)
        .await
        .expect("run")
        .expect("the run exists");
    let c = &run.summary_counts;
    assert_eq!(run.status, RunStatus::Completed, "run {run_id}");
    let (queued, running) = (rows("queued").await, rows("running").await);
    let (succeeded, failed) = (rows("succeeded").await, rows("failed").await);
    let (not_started, cancelled) = (rows("not_started").await, rows("cancelled").await);
    assert_eq!((queued, running), (0, 0), "run {run_id}: nothing left open");
    assert_eq!(
        succeeded + failed + not_started + cancelled,
        c.total,
        "run {run_id}: every tenant once"
    );
    assert_eq!(
        (c.succeeded, c.failed, run.not_started),
        (succeeded, failed, not_started),
        "run {run_id}: the run's counts are its rows'"
    );
    assert_eq!(
        c.processed,
        succeeded + failed + not_started,
        "run {run_id}"
    );
    if run.outcome != Outcome::Cancelled {
        assert_eq!(cancelled, 0, "run {run_id}");
        assert_eq!(c.processed, c.total, "run {run_id}");
    }
    let items = q(format!(
        "SELECT CAST(COALESCE(SUM(items_updated), 0) AS BIGINT) FROM operation_run_tenants \
         WHERE run_id = {run_id}"
    ))
    .await;
    assert_eq!(items, c.items_updated, "run {run_id}: items counted once");
    let jobs = q(format!("SELECT count(*) FROM jobs WHERE run_id = {run_id}")).await;
    assert_eq!(jobs, c.total, "run {run_id}: one job per tenant");
}

async fn race(backend: Backend, budget: Duration) {
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let db = Db::connect(&test_db.url, 16).await.expect("connect");
    // The real clock: held-back tenants come due by themselves. Leases are
    // long, so a job left running by a failed transaction stays visible.
    let settings = Settings {
        job_lease_ms: 120_000,
        locked_retry_ms: 30,
        backoff_base_ms: 30,
        backoff_max_ms: 200,
        max_attempts: 5,
        ..test_settings()
    };
    let app = App::new(db.clone(), clock::system(), settings);
    app.bootstrap().await.expect("bootstrap");
    app.demo()
        .seed_tenants(DemoSize::new(TENANTS, 3, BAD_TENANTS).expect("size"))
        .await
        .expect("seed");
    let (_server, base, client) = console_as(&app, "race@ops.test", &Capability::ALL).await;
    let errors = Errors::default();
    let api = Api {
        client,
        base,
        errors: errors.clone(),
    };

    let (stop, stopped) = watch::channel(false);
    let first = tokio::spawn(app.worker().run(2, stopped.clone()));
    job_loops(app.worker(), 2, errors.clone(), stopped);

    let started = Instant::now();
    let mut iterations: usize = 0;
    let mut runs_checked = 0;
    let mut last: Option<i64> = None;
    while started.elapsed() < budget && iterations < 60 && errors.all().is_empty() {
        let i = iterations;
        iterations += 1;
        if i.is_multiple_of(2) {
            // Pending work again, so tenants write chunks (not only the
            // batched fan-out over tenants with nothing to do).
            db.execute("UPDATE findings SET lifecycle_version = NULL", vec![])
                .await
                .expect("reset findings");
        }
        let mut runs: Vec<i64> = Vec::new();
        runs.extend(start_run(&app, &api, &errors, i).await);
        if let Some(of) = last {
            runs.extend(start_retry(&app, &api, &errors, of, i).await);
        }
        // Two operators at once, each firing controls at the runs while
        // their tenants complete; a cancel now and then.
        let operator = || async {
            let begun = Instant::now();
            while begun.elapsed() < Duration::from_millis(600) {
                for &run_id in &runs {
                    let cancel = rand::thread_rng().gen_ratio(1, 25);
                    control(&app, &api, &errors, run_id, cancel).await;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::join!(operator(), operator());
        // Then the run goes on unpaused and uncapped to its end, or is
        // cancelled.
        for &run_id in &runs {
            let service = app.runs();
            errors.control("resume", service.resume(&cli(), run_id).await);
            if i.is_multiple_of(3) {
                errors.control("cancel", service.cancel(&cli(), run_id).await);
            } else {
                let lift = service
                    .set_limits(&cli(), run_id, Some(""), None, None)
                    .await;
                errors.control("limits", lift);
            }
        }
        let runs_service = app.runs();
        let done = within(Duration::from_secs(30), || async {
            let mut all = true;
            for &run_id in &runs {
                all &= runs_service
                    .get(run_id)
                    .await
                    .is_ok_and(|r| r.status == RunStatus::Completed);
            }
            all
        })
        .await;
        assert!(
            done,
            "iteration {i}: runs {runs:?} completed; {:?}",
            errors.all()
        );
        // A cancelled run's tenants in flight finish their work and end
        // their jobs; none stays running until its lease runs out.
        let list = runs
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let settled = within(Duration::from_secs(20), || async {
            db.scalar::<i64>(
                &format!(
                    "SELECT count(*) FROM jobs WHERE run_id IN ({list}) \
                     AND status IN ('available', 'retryable', 'running')"
                ),
                vec![],
            )
            .await
            .is_ok_and(|n| n == 0)
        })
        .await;
        assert!(
            settled,
            "iteration {i}: no job of runs {runs:?} left queued or running; {:?}",
            errors.all()
        );
        for &run_id in &runs {
            assert_exact(&db, run_id).await;
            runs_checked += 1;
        }
        last = runs.first().copied();
    }
    let elapsed = started.elapsed();
    let _ = stop.send(true);
    let _ = first.await;
    eprintln!(
        "lock order race on {backend:?}: {iterations} iterations, {runs_checked} runs in {elapsed:?}"
    );
    let errors = errors.all();
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    assert!(iterations >= 6, "enough iterations ({iterations})");
    app.close().await;
    if backend == Backend::Postgres {
        assert_no_deadlock_counted(&test_db).await;
    }
    test_db.teardown().await;
}

/// PostgreSQL counts the deadlocks it broke per database, as each of its
/// sessions reports them (at the latest when it ends).
async fn assert_no_deadlock_counted(test_db: &TestDb) {
    let Some(admin) = crate::support::postgres_admin_url() else {
        return;
    };
    let admin = Db::open(&admin, 2).await.expect("admin");
    let name = test_db
        .url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let gone = within(Duration::from_secs(10), || async {
        admin
            .scalar::<i64>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                tenantatlas::args![name.clone()],
            )
            .await
            .is_ok_and(|n| n == 0)
    })
    .await;
    assert!(gone, "the service's sessions ended");
    let deadlocks = admin
        .scalar::<i64>(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = $1",
            tenantatlas::args![name.clone()],
        )
        .await
        .expect("deadlocks");
    admin.close().await;
    assert_eq!(deadlocks, 0, "deadlocks PostgreSQL detected and broke");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn controls_race_completing_tenants_without_deadlock_postgres() {
    race(Backend::Postgres, Duration::from_secs(35)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn controls_race_completing_tenants_without_deadlock_sqlite() {
    race(Backend::Sqlite, Duration::from_secs(20)).await;
}
