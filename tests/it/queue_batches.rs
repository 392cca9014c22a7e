//! Tenant jobs claimed in batches: one statement claims several, their
//! tenants are locked together, a tenant held elsewhere waits without using
//! an attempt, and every tenant's result counts exactly once.

use tenantatlas::runs::{Outcome, RunStatus};
use tenantatlas::storage::queue as q;
use tenantatlas::storage::tenant_locks;

use crate::both_backends;
use crate::support::runs::{BACKFILL, start_all};

both_backends!(
    a_batch_locks_each_tenant_once_and_counts_each_result_once,
    |t| async move {
        // Twelve demo tenants with findings, plus `platform`.
        t.seed(12, 3, 0).await;
        let started = start_all(&t.app, BACKFILL).await;
        let total = started.run.summary_counts.total;
        assert_eq!(total, 13);
        // One tenant is held by someone else.
        let held = t.count("SELECT min(tenant_id) FROM jobs").await;
        let now = t.app.clock.now_ms();
        let locked = tenant_locks::lock(
            &mut t.app.db.clone(),
            &[held],
            "someone-else",
            now,
            now + 20_000,
        )
        .await;
        assert_eq!(locked.unwrap(), [held]);

        let worker = t.worker();
        let ran = worker.run_batch(32).await.unwrap();
        assert_eq!(ran, 13, "one statement claimed every ready job");
        let run = t.app.runs().get(started.run.id).await.unwrap();
        assert_eq!(run.summary_counts.processed, 12, "all but the held tenant");
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(
            t.count("SELECT count(*) FROM jobs WHERE status = 'completed'")
                .await,
            12
        );
        assert_eq!(
            t.count(&format!(
                "SELECT attempts FROM jobs WHERE tenant_id = {held}"
            ))
            .await,
            0,
            "a busy tenant uses no attempt"
        );
        assert_eq!(
            t.count("SELECT count(*) FROM tenant_locks").await,
            1,
            "only the other holder's lock is left"
        );
        assert_eq!(worker.run_batch(32).await.unwrap(), 0, "the busy job waits");

        // The holder's lease expires; the last tenant runs and completes the run.
        t.clock.advance(chrono::Duration::seconds(21));
        assert_eq!(worker.run_batch(32).await.unwrap(), 1);
        let run = t.app.runs().get(started.run.id).await.unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.outcome, Outcome::Succeeded);
        assert_eq!(run.summary_counts.processed, total);
        assert_eq!(run.summary_counts.succeeded, total);
        assert_eq!(run.summary_counts.items_updated, 36);
        assert_eq!(
            t.count("SELECT count(*) FROM operation_run_tenants WHERE state = 'succeeded'")
                .await,
            total
        );
        assert_eq!(t.count("SELECT count(*) FROM tenant_locks").await, 0);
        assert_eq!(
            t.count("SELECT count(*) FROM findings WHERE lifecycle_version IS NULL")
                .await,
            0
        );
    }
);

both_backends!(
    a_batch_of_tenants_with_nothing_to_do_counts_each_once,
    |t| async move {
        t.seed(12, 3, 0).await;
        let first = start_all(&t.app, BACKFILL).await;
        let worker = t.worker();
        while t.app.runs().get(first.run.id).await.unwrap().status != RunStatus::Completed {
            assert!(
                worker.run_batch(32).await.unwrap() > 0,
                "the first run finishes"
            );
        }
        // Every tenant is done: the second run's batch answers them all in
        // one statement, as the tenants' own work would have.
        let second = start_all(&t.app, BACKFILL).await;
        assert_eq!(worker.run_batch(32).await.unwrap(), 13);
        let run = t.app.runs().get(second.run.id).await.unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.outcome, Outcome::Succeeded);
        assert_eq!(run.summary_counts.succeeded, 13);
        assert_eq!(run.summary_counts.items_updated, 0);
        assert_eq!(
            run.summary_counts.items_skipped, 36,
            "3 findings of 12 tenants"
        );
        let id = second.run.id;
        assert_eq!(
            t.count(&format!(
                "SELECT count(*) FROM operation_run_tenants rt WHERE rt.run_id = {id} \
                 AND rt.state = 'succeeded' AND rt.items_skipped = \
                     (SELECT count(*) FROM findings f WHERE f.tenant_id = rt.tenant_id)"
            ))
            .await,
            13
        );
        assert_eq!(t.count("SELECT count(*) FROM tenant_locks").await, 0);
        assert_eq!(
            t.count(&format!(
                "SELECT count(*) FROM jobs WHERE run_id = {id} AND status = 'completed'"
            ))
            .await,
            13
        );
    }
);

/// An idle SQLite worker looks for jobs only when the write-ahead log moved
/// (or once a second): the probe must see another process's commit and must
/// stay quiet while nothing is written.
#[tokio::test]
async fn the_sqlite_commit_probe_sees_every_commit_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("probe.db").display());
    let writer = tenantatlas::storage::Db::connect(&url, 2).await.unwrap();
    let watcher = tenantatlas::storage::Db::open(&url, 2).await.unwrap();
    let mut probe = q::CommitProbe::new(&watcher);
    assert!(probe.changed(), "the first look always looks");
    assert!(!probe.changed(), "nothing was written");
    // A read changes nothing.
    let _: i64 = watcher
        .scalar("SELECT count(*) FROM jobs", tenantatlas::args![])
        .await
        .unwrap();
    assert!(!probe.changed(), "a read is not a commit");
    for round in 0..3 {
        writer
            .execute(
                "INSERT INTO workspaces (slug, name, created_at) VALUES ($1, $1, CURRENT_TIMESTAMP)",
                tenantatlas::args![format!("w{round}")],
            )
            .await
            .unwrap();
        assert!(probe.changed(), "commit {round} was seen");
        assert!(!probe.changed(), "and only once");
    }
    // A checkpoint that restarts the log is a change too, then quiet again.
    writer
        .execute("PRAGMA wal_checkpoint(TRUNCATE)", tenantatlas::args![])
        .await
        .unwrap();
    writer
        .execute(
            "INSERT INTO workspaces (slug, name, created_at) VALUES ('after', 'after', CURRENT_TIMESTAMP)",
            tenantatlas::args![],
        )
        .await
        .unwrap();
    assert!(probe.changed(), "a commit after a checkpoint was seen");
    assert!(!probe.changed());
}
