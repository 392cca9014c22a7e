//! The lifecycle backfill's chunks are committed only under the job's lease
//! and while its run goes on: on PostgreSQL the chunk loop runs inside the
//! database in one call, so it checks the lease itself before every chunk.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tenantatlas::args;
use tenantatlas::clock::Clock;
use tenantatlas::runbooks::{JobError, JobLease, ScopeRequest, TenantJob};
use tenantatlas::runs::{OperationRunService, TenantResult};
use tenantatlas::storage::queue as q;

use crate::both_backends;
use crate::support::runs::cli;
use crate::support::{Backend, TestApp};

use crate::support::runs::BACKFILL;
const PENDING: &str = "SELECT count(*) FROM findings WHERE lifecycle_version IS NULL";
const OWNER: &str = "first-worker";

/// One tenant with 25 pending findings (three chunks of ten), its run started
/// and its job claimed by [`OWNER`]; returns the run and the job's work.
async fn claimed(t: &TestApp) -> (i64, TenantJob) {
    t.seed(1, 25, 0).await;
    let tenant = t
        .app
        .db
        .scalar::<String>(
            "SELECT t.external_id FROM tenants t \
             WHERE EXISTS (SELECT 1 FROM findings f WHERE f.tenant_id = t.id)",
            vec![],
        )
        .await
        .unwrap();
    let scope =
        ScopeRequest::Tenant(tenantatlas::domain::TenantExternalId::parse(&tenant).unwrap());
    let run_id = t
        .app
        .runbooks()
        .start(&cli(), BACKFILL, &scope, None)
        .await
        .unwrap()
        .run
        .id;
    let now = t.app.clock.now_ms();
    let job = q::claim(&mut t.app.db.clone(), OWNER, now, 30_000, false)
        .await
        .unwrap()
        .expect("a job");
    let mut tx = t.app.db.begin().await.unwrap();
    OperationRunService::mark_running(&mut tx, run_id, t.clock.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let work = TenantJob::new(
        t.app.db.clone(),
        run_id,
        tenant_of(&job),
        1,
        t.app.settings.chunk_size,
        JobLease {
            job_id: job.id,
            owner: OWNER.into(),
            stop: Arc::new(AtomicBool::new(false)),
        },
    );
    (run_id, work)
}

async fn work(t: &TestApp, job: &TenantJob) -> Result<TenantResult, JobError> {
    t.app.registry.get(BACKFILL).unwrap().run_tenant(job).await
}

async fn items_updated(t: &TestApp, run_id: i64) -> i64 {
    t.app
        .runs()
        .get(run_id)
        .await
        .unwrap()
        .summary_counts
        .items_updated
}

both_backends!(
    a_job_whose_lease_passed_on_commits_no_chunk,
    |t| async move {
        let (run_id, job) = claimed(t).await;
        // Another worker took the job over (its lease had run out).
        t.exec("UPDATE jobs SET lease_owner = 'second-worker'")
            .await;

        assert!(matches!(work(t, &job).await, Err(JobError::Stopped)));
        assert_eq!(t.count(PENDING).await, 25, "no finding was updated");
        assert_eq!(items_updated(t, run_id).await, 0);

        // The holder of the lease does the work, and it counts once.
        t.exec("UPDATE jobs SET lease_owner = 'first-worker'").await;
        let result = work(t, &job).await.expect("work");
        assert_eq!(result.items_in_target_state, 25);
        assert_eq!(t.count(PENDING).await, 0);
        assert_eq!(items_updated(t, run_id).await, 25);
    }
);

both_backends!(
    a_cancelled_run_stops_its_tenant_before_the_next_chunk,
    |t| async move {
        let (run_id, job) = claimed(t).await;
        t.app.runs().cancel(&cli(), run_id).await.expect("cancel");

        assert!(matches!(work(t, &job).await, Err(JobError::Stopped)));
        assert_eq!(t.count(PENDING).await, 25, "no finding was updated");
        assert_eq!(items_updated(t, run_id).await, 0);
    }
);

both_backends!(
    unmappable_findings_fail_their_tenant_and_stay_pending,
    |t| async move {
        let (_, job) = claimed(t).await;
        t.exec(
            "UPDATE findings SET legacy_state = 'archived' \
             WHERE id IN (SELECT id FROM findings ORDER BY id LIMIT 2)",
        )
        .await;
        t.exec(
            "UPDATE findings SET severity = 'urgent' \
             WHERE id = (SELECT max(id) FROM findings)",
        )
        .await;

        let result = work(t, &job).await.expect("work");
        assert_eq!(result.items_in_target_state, 22);
        assert_eq!(result.items_failed, 3);
        let codes: Vec<&str> = result
            .failures
            .iter()
            .map(|f| f.reason_code.as_str())
            .collect();
        assert_eq!(
            codes,
            [
                "finding.unknown_legacy_state",
                "finding.unknown_legacy_state",
                "finding.unknown_severity"
            ]
        );
        assert_eq!(t.count(PENDING).await, 3);
    }
);

/// A lease lost while the database runs the chunk loop: the chunk under way
/// (it checked the lease first) commits, and the next one does not start.
/// A transaction of the test holds the run's row, so the call waits inside
/// its first chunk while the job passes to another worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_lost_during_the_call_stops_it_at_the_next_chunk_postgres() {
    let Some(t) = TestApp::new(Backend::Postgres).await else {
        return;
    };
    let (run_id, job) = claimed(&t).await;
    let mut hold = t.app.db.begin().await.unwrap();
    hold.execute(
        "SELECT id FROM operation_runs WHERE id = $1 FOR UPDATE",
        args![run_id],
    )
    .await
    .unwrap();
    let registry = t.app.registry.clone();
    let call = tokio::spawn(async move { registry.get(BACKFILL).unwrap().run_tenant(&job).await });
    // The call is inside its first chunk once its findings are locked.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while t
        .count(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock' \
               AND query LIKE 'CALL %'",
        )
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the call never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.exec("UPDATE jobs SET lease_owner = 'second-worker'")
        .await;
    hold.commit().await.unwrap();

    let result = call.await.unwrap();
    assert!(matches!(result, Err(JobError::Stopped)));
    assert_eq!(t.count(PENDING).await, 15, "the first chunk only");
    assert_eq!(items_updated(&t, run_id).await, 10);
    t.teardown().await;
}

/// The tenant a claimed tenant job works on, from its arguments.
fn tenant_of(job: &q::ClaimedJob) -> i64 {
    serde_json::from_str::<tenantatlas::runs::TenantJobArgs>(&job.payload)
        .expect("tenant job arguments")
        .tenant_id
}
