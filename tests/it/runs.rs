//! The OperationRunService: identity, counting once, completion, cancel, retry.

use std::collections::HashSet;

use tenantatlas::clock::Clock;
use tenantatlas::queue::{Recorded, Step};
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{OperationRunService, Outcome, RunStatus, Scope, TenantResult};
use tenantatlas::storage::queue as q;
use tenantatlas::storage::tenant_locks;

use crate::both_backends;
use crate::support::runs::{BACKFILL, cli, preflight_all, start_all};

/// Starts the lifecycle backfill over one tenant, by external id.
async fn start_tenant_run(
    t: &crate::support::TestApp,
    external_id: &str,
) -> tenantatlas::runs::Ensured {
    let scope =
        ScopeRequest::Tenant(tenantatlas::domain::TenantExternalId::parse(external_id).unwrap());
    t.app
        .runbooks()
        .start(&cli(), BACKFILL, &scope, None)
        .await
        .unwrap()
}

/// The outcome of a worker step that must have run a job.
fn ran(step: Step, what: &str) -> Recorded {
    match step {
        Step::Ran { recorded, .. } => recorded,
        Step::Idle => panic!("{what}: no job ran"),
    }
}

both_backends!(fifty_concurrent_starts_give_one_run, |t| async move {
    t.seed(3, 5, 0).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let service = t.app.runbooks();
        tasks.spawn(async move {
            service
                .start(&cli(), BACKFILL, &ScopeRequest::AllTenants, None)
                .await
        });
    }
    let mut ids = HashSet::new();
    let mut created = 0;
    while let Some(res) = tasks.join_next().await {
        let ensured = res.expect("task").expect("start");
        ids.insert(ensured.run.id);
        created += ensured.created as usize;
    }
    assert_eq!(ids.len(), 1, "every start returned the same run");
    assert_eq!(created, 1, "exactly one start created it");
    assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 1);
    // One job per tenant: 3 demo tenants and the platform tenant.
    assert_eq!(t.count("SELECT count(*) FROM jobs").await, 4);
});

both_backends!(
    starting_again_returns_the_active_run_and_a_new_one_after_completion,
    |t| async move {
        t.seed(2, 3, 0).await;
        let service = t.app.runbooks();
        let all = ScopeRequest::AllTenants;
        let first = service.start(&cli(), BACKFILL, &all, Some("first")).await;
        let again = service.start(&cli(), BACKFILL, &all, Some("again")).await;
        let (first, again) = (first.unwrap(), again.unwrap());
        assert!(first.created && !again.created);
        assert_eq!(first.run.id, again.run.id);
        t.drain().await;
        let done = t.app.runs().run(&cli(), first.run.id).await.unwrap();
        assert_eq!(done.status, RunStatus::Completed);
        let next = start_all(&t.app, BACKFILL).await;
        assert!(next.created);
        assert_ne!(next.run.id, first.run.id);
    }
);

both_backends!(a_tenant_result_counts_once, |t| async move {
    t.seed(2, 3, 0).await;
    let run_id = start_all(&t.app, BACKFILL).await.run.id;
    let tenant: i64 = t
        .app
        .db
        .scalar("SELECT min(tenant_id) FROM jobs", vec![])
        .await
        .unwrap();
    let result = TenantResult {
        items_in_target_state: 3,
        ..Default::default()
    };
    let now = t.app.clock.now();
    for expected in [true, false, false] {
        let mut tx = t.app.db.begin().await.unwrap();
        let counted = t
            .app
            .runs()
            .record_tenant_result(&mut tx, run_id, tenant, &result, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(counted, expected);
    }
    let run = t.app.runs().get(run_id).await.unwrap();
    assert_eq!(run.summary_counts.processed, 1);
    assert_eq!(run.summary_counts.succeeded, 1);
    assert_eq!(run.summary_counts.items_skipped, 3);
});

both_backends!(
    a_job_rerun_after_its_worker_died_counts_once,
    |t| async move {
        t.seed(1, 25, 0).await;
        let preflight = preflight_all(&t.app, BACKFILL).await;
        assert_eq!(preflight.items_pending, 25);
        let mut per_tenant = preflight.per_tenant.iter();
        let with_work = per_tenant.find(|p| p.items_pending > 0).unwrap();
        let run_id = start_tenant_run(t, &with_work.tenant_external_id)
            .await
            .run
            .id;

        // A worker claims the job, writes every chunk, and dies before recording the result.
        let now = t.app.clock.now_ms();
        let job = q::claim(&mut t.app.db.clone(), "doomed-worker", now, 30_000, false)
            .await
            .unwrap()
            .expect("a job");
        let runbook = t.app.registry.get(BACKFILL).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let work = tenantatlas::runbooks::TenantJob::new(
            t.app.db.clone(),
            run_id,
            serde_json::from_str::<tenantatlas::runs::TenantJobArgs>(&job.payload)
                .unwrap()
                .tenant_id,
            1,
            t.app.settings.chunk_size,
            tenantatlas::runbooks::JobLease {
                job_id: job.id,
                owner: "doomed-worker".into(),
                stop,
            },
        );
        let mut tx = t.app.db.begin().await.unwrap();
        OperationRunService::mark_running(&mut tx, run_id, t.clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        runbook.run_tenant(&work).await.expect("work");
        let pending = "SELECT count(*) FROM findings WHERE lifecycle_version IS NULL";
        assert_eq!(t.count(pending).await, 0);

        // Not before the lease expires…
        assert_eq!(t.worker().run_once().await.unwrap(), Step::Idle);
        // …then another worker claims it again and finishes it.
        t.clock.advance(chrono::Duration::seconds(31));
        match t.worker().run_once().await.unwrap() {
            Step::Ran {
                job_id,
                recorded: outcome,
            } => {
                assert_eq!(job_id, job.id);
                assert_eq!(outcome, Recorded::Completed);
            }
            Step::Idle => panic!("the expired job was not claimed"),
        }
        let run = t.app.runs().get(run_id).await.unwrap();
        assert_eq!(run.outcome, Outcome::Succeeded);
        assert_eq!(run.summary_counts.processed, 1);
        assert_eq!(
            run.summary_counts.items_updated, 25,
            "each finding counted once"
        );
        assert_eq!(run.summary_counts.items_skipped, 0);
        assert_eq!(t.count("SELECT attempts FROM jobs").await, 2);
    }
);

both_backends!(two_workers_never_claim_the_same_job, |t| async move {
    t.seed(40, 0, 0).await;
    start_all(&t.app, BACKFILL).await;
    let queued = "SELECT count(*) FROM jobs WHERE status IN ('available', 'retryable')";
    assert_eq!(t.count(queued).await, 41);
    let mut claimers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let db = t.app.db.clone();
        let now = t.app.clock.now_ms();
        claimers.spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = q::claim(&mut db.clone(), &format!("w{w}"), now, 30_000, false)
                .await
                .unwrap()
            {
                mine.push(job.id);
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(res) = claimers.join_next().await {
        all.extend(res.unwrap());
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 41, "every job claimed");
    assert_eq!(distinct.len(), 41, "no job claimed twice");
});

both_backends!(
    a_locked_tenant_is_retried_later_not_failed,
    |t| async move {
        t.seed(1, 3, 0).await;
        let started = start_tenant_run(t, "demo-00001").await;
        let tenant = started.run.tenant_id.unwrap();
        let now = t.app.clock.now_ms();
        let mut db = t.app.db.clone();
        let locked =
            tenant_locks::lock(&mut db, &[tenant], "someone-else", now, now + 20_000).await;
        assert_eq!(locked.unwrap(), [tenant]);

        let step = t.worker().run_once().await.unwrap();
        assert_eq!(ran(step, "no job"), Recorded::Snoozed);
        assert_eq!(
            t.count("SELECT attempts FROM jobs").await,
            0,
            "a busy tenant uses no attempt"
        );
        assert_eq!(
            t.worker().run_once().await.unwrap(),
            Step::Idle,
            "it waits before the next try"
        );
        // The holder's lease expires; the job runs.
        t.clock.advance(chrono::Duration::seconds(21));
        let step = t.worker().run_once().await.unwrap();
        assert_eq!(ran(step, "the job did not come back"), Recorded::Completed);
        let run = t.app.runs().get(started.run.id).await.unwrap();
        assert_eq!(run.outcome, Outcome::Succeeded);
        assert_eq!(run.summary_counts.failed, 0);
        assert_eq!(
            t.count("SELECT count(*) FROM tenant_locks").await,
            0,
            "the lock is released"
        );
    }
);

both_backends!(
    a_job_whose_worker_keeps_dying_ends_dead_and_fails_its_tenant,
    |t| async move {
        t.seed(1, 3, 0).await;
        let started = start_tenant_run(t, "demo-00001").await;
        // Three attempts (test setting), each claimed by a worker that dies.
        for attempt in 1..=3 {
            let (now, worker) = (t.app.clock.now_ms(), format!("dies-{attempt}"));
            let claimed = q::claim(&mut t.app.db.clone(), &worker, now, 30_000, true).await;
            let job = claimed.unwrap().expect("job");
            assert_eq!(job.attempts, attempt);
            t.clock.advance(chrono::Duration::seconds(31));
        }
        let step = t.worker().run_once().await.unwrap();
        let outcome = ran(step, "expected the job to end dead");
        assert!(matches!(outcome, Recorded::Discarded(_)), "{outcome:?}");
        let run = t.app.runs().get(started.run.id).await.unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.outcome, Outcome::Failed);
        assert_eq!(run.failures.len(), 1);
        assert_eq!(run.failures[0].reason_code, "job.attempts_exhausted");
        let dead = "SELECT count(*) FROM jobs WHERE status = 'discarded'";
        assert_eq!(t.count(dead).await, 1);
    }
);

both_backends!(
    cancel_drops_queued_jobs_and_freezes_the_run,
    |t| async move {
        t.seed(3, 4, 0).await;
        let run_id = start_all(&t.app, BACKFILL).await.run.id;
        let (service, worker) = (t.app.runs(), t.worker());
        let first = worker.run_once().await.unwrap();
        assert_eq!(ran(first, "the first job"), Recorded::Completed);
        let cancelled = service.cancel(&cli(), run_id).await.unwrap();
        assert_eq!(cancelled.status, RunStatus::Completed);
        assert_eq!(cancelled.outcome, Outcome::Cancelled);
        assert_eq!(cancelled.summary_counts.processed, 1);
        let dropped = "SELECT count(*) FROM jobs WHERE status = 'cancelled'";
        assert_eq!(t.count(dropped).await, 3);
        assert_eq!(worker.run_once().await.unwrap(), Step::Idle);
        let after = service.run(&cli(), run_id).await.unwrap();
        assert_eq!(
            after.summary_counts, cancelled.summary_counts,
            "a completed run never changes"
        );
        let again = service.cancel(&cli(), run_id).await;
        assert!(matches!(again, Err(tenantatlas::error::Error::Conflict(_))));
    }
);

both_backends!(
    retry_failed_starts_a_run_over_the_failed_tenants,
    |t| async move {
        t.seed(4, 5, 2).await;
        let service = t.app.runs();
        let first_id = start_all(&t.app, BACKFILL).await.run.id;
        let retry_early = service.retry_failed(&cli(), first_id, None).await;
        assert!(
            matches!(retry_early, Err(tenantatlas::error::Error::Conflict(_))),
            "not while active"
        );
        t.drain().await;
        let first = service.run(&cli(), first_id).await.unwrap();
        assert_eq!(first.outcome, Outcome::PartiallySucceeded);
        assert_eq!(first.summary_counts.failed, 2);

        // Fix the bad data, then retry the failed tenants only.
        t.exec("UPDATE findings SET legacy_state = 'open' WHERE legacy_state = 'archived'")
            .await;
        let retry = service.retry_failed(&cli(), first.id, None).await.unwrap();
        assert!(retry.created);
        assert_eq!(retry.run.summary_counts.total, 2);
        assert!(
            matches!(retry.run.context.scope, Scope::Tenants { retry_of, .. } if retry_of == first.id)
        );
        t.drain().await;
        let retry = service.run(&cli(), retry.run.id).await.unwrap();
        assert_eq!(retry.outcome, Outcome::Succeeded);
        assert_eq!(retry.summary_counts.items_updated, 2);
        let pending = "SELECT count(*) FROM findings WHERE lifecycle_version IS NULL";
        assert_eq!(t.count(pending).await, 0);
    }
);

both_backends!(an_empty_scope_completes_at_once, |t| async move {
    let started = start_tenant_run(t, "platform").await;
    assert_eq!(started.run.summary_counts.total, 1);
    t.drain().await;
    let run = t.app.runs().get(started.run.id).await.unwrap();
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert_eq!(run.summary_counts.items_updated, 0);
});

both_backends!(
    a_failing_tenant_job_is_retried_with_backoff_then_given_up,
    |t| async move {
        t.seed(2, 3, 0).await;
        let run_id = start_all(&t.app, BACKFILL).await.run.id;
        // Break the chunk statement: the observations table is gone for a while.
        let away = "ALTER TABLE finding_observations RENAME TO finding_observations_away";
        let back = "ALTER TABLE finding_observations_away RENAME TO finding_observations";
        t.exec(away).await;
        let worker = t.worker();
        let mut retrying = 0;
        while let Step::Ran {
            recorded: outcome, ..
        } = worker.run_once().await.unwrap()
        {
            match outcome {
                Recorded::Retryable(error) => {
                    retrying += 1;
                    assert!(error.contains("database error"), "{error}");
                }
                Recorded::Completed => {} // the platform tenant has nothing to do
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(retrying, 2, "both demo tenants failed once");
        let once =
            "SELECT count(*) FROM jobs WHERE status IN ('available', 'retryable') AND attempts = 1";
        assert_eq!(t.count(once).await, 2);
        // Not before the backoff (1 s in tests) has passed.
        assert_eq!(worker.run_once().await.unwrap(), Step::Idle);

        // One tenant comes back while the table is back; the other keeps failing.
        t.clock.advance(chrono::Duration::seconds(1));
        let second = ran(worker.run_once().await.unwrap(), "the second try");
        assert!(matches!(second, Recorded::Retryable(_)), "{second:?}");
        t.exec(back).await;
        let recovered = ran(worker.run_once().await.unwrap(), "the recovered try");
        assert_eq!(recovered, Recorded::Completed);
        t.exec(away).await;
        // Attempt 3 of 3 (test setting) fails for good after a 2 s backoff.
        t.clock.advance(chrono::Duration::seconds(2));
        match ran(worker.run_once().await.unwrap(), "the last try") {
            Recorded::Discarded(error) => assert!(error.contains("database error"), "{error}"),
            other => panic!("expected the job to end dead, got {other:?}"),
        }
        t.exec(back).await;
        let run = t.app.runs().run(&cli(), run_id).await.unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.outcome, Outcome::PartiallySucceeded);
        assert_eq!(
            (run.summary_counts.succeeded, run.summary_counts.failed),
            (2, 1)
        );
        assert_eq!(run.failures.len(), 1);
        assert_eq!(run.failures[0].reason_code, "job.attempts_exhausted");
        assert!(run.failures[0].message.contains("database error"));
        assert_eq!(
            run.summary_counts.items_updated, 3,
            "the recovered tenant's findings"
        );
    }
);
