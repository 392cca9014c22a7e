//! Faults of the database under a running service: every connection cut in
//! the middle of an all-tenants run.

use std::time::{Duration, Instant};

use tenantatlas::app::{App, Settings};
use tenantatlas::clock;
use tenantatlas::console::DemoSize;
use tenantatlas::runs::{Outcome, RunStatus};
use tenantatlas::storage::Db;
use tokio::sync::watch;

use crate::support::runs::start_all;
use crate::support::web::{client, start};
use crate::support::{Backend, TestDb, test_settings};

use crate::support::runs::BACKFILL;

/// Polls `check` every 50 ms until it holds or `deadline` passes.
async fn eventually<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < deadline, "{what} within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_every_database_connection_mid_run_loses_and_fails_nothing() {
    let Some(test_db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let db = Db::connect(&test_db.url, 10).await.expect("connect");
    // The real clock: retries and leases must come due by themselves.
    let settings = Settings {
        job_lease_ms: 2_000,
        max_attempts: 8,
        backoff_base_ms: 100,
        backoff_max_ms: 1_000,
        locked_retry_ms: 200,
        ..test_settings()
    };
    let app = App::new(db.clone(), clock::system(), settings);
    app.bootstrap().await.expect("bootstrap");
    let seeded = app
        .demo()
        .seed_tenants(DemoSize::new(40, 200, 0).expect("size"))
        .await
        .expect("seed");
    let server = start(&app).await;
    let web = client();
    let ready = || async {
        web.get(format!("{}/readyz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    };
    assert!(ready().await, "ready before the cut");

    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(app.worker().run(2, stopped));
    let run = start_all(&app, BACKFILL).await.run;
    let total = run.summary_counts.total;
    let runs = app.runs();
    eventually(
        "a quarter of the tenants processed",
        Duration::from_secs(60),
        || async {
            runs.get(run.id)
                .await
                .is_ok_and(|r| r.summary_counts.processed * 4 >= total)
        },
    )
    .await;

    // Every connection of the service's pool, from outside it.
    let killer = Db::open(&test_db.url, 1).await.expect("second pool");
    let cut: Vec<(bool,)> = killer
        .fetch_all(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            vec![],
        )
        .await
        .expect("terminate");
    assert!(!cut.is_empty(), "the service had connections to cut");

    eventually("/readyz ready again", Duration::from_secs(5), ready).await;
    eventually("the run completed", Duration::from_secs(120), || async {
        runs.get(run.id)
            .await
            .is_ok_and(|r| r.status == RunStatus::Completed)
    })
    .await;
    let _ = stop.send(true);
    let _ = workers.await;

    let done = runs.get(run.id).await.expect("run");
    let c = &done.summary_counts;
    assert_eq!(done.outcome, Outcome::Succeeded, "{:?}", done.failures);
    assert_eq!((c.processed, c.succeeded, c.failed), (total, total, 0));
    assert_eq!(
        c.items_updated, seeded.findings,
        "every finding counted once"
    );
    assert!(done.failures.is_empty());
    let pending: i64 = killer
        .scalar(
            "SELECT count(*) FROM findings WHERE lifecycle_version IS NULL",
            vec![],
        )
        .await
        .expect("count");
    assert_eq!(pending, 0, "every finding backfilled");
    let retried: i64 = killer
        .scalar(
            "SELECT count(*) FROM jobs WHERE run_id = $1 AND attempts > 1",
            tenantatlas::args![run.id],
        )
        .await
        .expect("count");
    eprintln!("jobs retried after the cut: {retried}");
    killer.close().await;
    db.close().await;
    test_db.teardown().await;
}
