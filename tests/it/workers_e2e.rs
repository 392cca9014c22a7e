//! End to end through the real binary: several `worker` processes share one
//! PostgreSQL; one is killed with SIGKILL in the middle of an all-tenants run.

use std::time::{Duration, Instant};

use crate::support::cli::Binary;
use crate::support::{Backend, TestDb};
use tenantatlas::storage::Db;

/// The run's row as the workers leave it.
#[derive(sqlx::FromRow, Debug)]
struct RunRow {
    status: String,
    total: i64,
    processed: i64,
    succeeded: i64,
    items_updated: i64,
}

async fn run_row(db: &Db, run_id: i64) -> RunRow {
    let sql = "SELECT status, total, processed, succeeded, items_updated \
               FROM operation_runs WHERE id = $1";
    db.fetch_one(sql, tenantatlas::args![run_id]).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_does_not_lose_or_double_count_a_tenant() {
    let Some(test_db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let url = test_db.url.clone();
    let env = [
        ("TENANTATLAS_JOB_LEASE_SECONDS", "2"),
        ("TENANTATLAS_CHUNK_SIZE", "10"),
    ];
    let bin = Binary::new(&url, &env);
    let seeded = bin
        .run("demo seed --tenants 40 --findings-per-tenant 600")
        .await;
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    let started = bin
        .run("runbooks run findings.backfill-lifecycle --all-tenants --json")
        .await;
    assert_eq!(started.code, 0, "{}", started.stderr);
    let run_id = started.json()["id"].as_i64().unwrap();

    let mut workers: Vec<tokio::process::Child> = (0..3).map(|_| bin.spawn_worker(1)).collect();
    let victim_pid = workers[0].id().expect("pid");
    let db = Db::open(&url, 2).await.unwrap();

    // Wait until the victim is inside a job, some tenants are done, and kill it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let owner_pattern = format!("%:{victim_pid}:%");
    loop {
        assert!(Instant::now() < deadline, "the victim never took a job");
        let processed = run_row(&db, run_id).await.processed;
        let holding: i64 = db
            .scalar(
                "SELECT count(*) FROM jobs WHERE status = 'running' AND lease_owner LIKE $1",
                tenantatlas::args![owner_pattern.clone()],
            )
            .await
            .unwrap();
        if processed >= 2 && holding > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers[0].start_kill().expect("SIGKILL");
    workers[0].wait().await.unwrap();
    let orphaned: Vec<(i64,)> = db
        .fetch_all(
            "SELECT id FROM jobs WHERE status = 'running' AND lease_owner LIKE $1",
            tenantatlas::args![owner_pattern],
        )
        .await
        .unwrap();
    let at_kill = run_row(&db, run_id).await;
    let total = at_kill.total;
    assert!(
        at_kill.processed < total,
        "the kill came in the middle of the run"
    );

    // The others finish, taking over the orphaned job once its lease expires.
    loop {
        assert!(
            Instant::now() < deadline,
            "the run did not complete after the kill"
        );
        if run_row(&db, run_id).await.status == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = run_row(&db, run_id).await;
    assert_eq!(done.processed, total);
    assert_eq!(done.succeeded, total);
    assert_eq!(
        done.items_updated,
        40 * 600,
        "each finding backfilled and counted once"
    );
    let pending: i64 = db
        .scalar(
            "SELECT count(*) FROM findings WHERE lifecycle_version IS NULL",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pending, 0);
    let counted: i64 = db
        .scalar(
            "SELECT sum(items_updated)::bigint FROM operation_run_tenants WHERE run_id = $1",
            tenantatlas::args![run_id],
        )
        .await
        .unwrap();
    assert_eq!(counted, 40 * 600);
    for (job,) in orphaned {
        let (status, attempts): (String, i64) = db
            .fetch_one(
                "SELECT status, attempts FROM jobs WHERE id = $1",
                tenantatlas::args![job],
            )
            .await
            .unwrap();
        assert_eq!(status, "completed");
        assert!(attempts >= 2, "the orphaned job was claimed again");
    }
    for w in &mut workers[1..] {
        let _ = w.start_kill();
    }
    db.close().await;
    test_db.teardown().await;
}
