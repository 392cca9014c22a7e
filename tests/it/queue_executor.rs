//! The queue's executor owns a job's life: a handler only says how the job
//! went, and the executor records it — completed, retryable after its
//! backoff (or a given time) then discarded once attempts run out, snoozed
//! without spending an attempt, discarded with a reason, cancelled — and
//! calls the kind's hooks. No job stays `running` after its handler
//! returned.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tenantatlas::domain::JobKind;
use tenantatlas::error::Result;
use tenantatlas::queue::{
    self, Enqueue, Handlers, Job, JobArgs, JobHandler, Outcome, Reason, Recorded, Step, Worker,
};
use tenantatlas::storage::{Tx, queue as q};

use crate::both_backends;
use crate::support::TestApp;

/// What the scripted job answers, attempt by attempt (the last answer
/// repeats).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Scripted {
    answers: Vec<String>,
}

impl JobArgs for Scripted {
    const KIND: JobKind = JobKind("test.scripted");
}

/// Answers as scripted, and notes every hook the executor calls.
#[derive(Clone, Default)]
struct ScriptedHandler {
    calls: Arc<Mutex<Vec<String>>>,
}

impl ScriptedHandler {
    fn note(&self, call: String) {
        self.calls.lock().expect("calls").push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

#[async_trait]
impl JobHandler for ScriptedHandler {
    type Args = Scripted;
    type Admitted = ();
    type Output = String;

    async fn work(&self, job: &Job<Scripted>, _: &()) -> Outcome<String> {
        let answers = &job.args.answers;
        let i = (job.attempt as usize)
            .saturating_sub(1)
            .min(answers.len() - 1);
        match answers[i].as_str() {
            "done" => Outcome::Done(format!("done on attempt {}", job.attempt)),
            "retry" => Outcome::retry("it failed"),
            "retry in 7s" => Outcome::Retry {
                error: "it failed".into(),
                after_ms: Some(7_000),
            },
            "snooze 60s" => job.snooze(60_000, "waiting.for_something"),
            "discard" => Outcome::Discard(Reason::new("test.refused", "never this one")),
            _ => Outcome::Cancel("test.unwanted".into()),
        }
    }

    async fn completed(&self, _tx: &mut Tx, done: &[(&Job<Scripted>, &String)]) -> Result<()> {
        for (job, output) in done {
            self.note(format!("completed {} ({output})", job.id));
        }
        Ok(())
    }

    async fn discarded(&self, _tx: &mut Tx, job: &Job<Scripted>, why: &Reason) -> Result<()> {
        self.note(format!(
            "discarded {} {}: {}",
            job.id, why.code, why.message
        ));
        Ok(())
    }

    async fn settled(
        &self,
        job: &Job<Scripted>,
        recorded: &Recorded,
        _output: Option<&String>,
    ) -> Result<()> {
        self.note(format!("settled {} {}", job.id, recorded.status()));
        Ok(())
    }
}

fn worker(t: &TestApp, handler: &ScriptedHandler) -> Worker {
    Worker::new(
        t.app.db.clone(),
        t.app.clock.clone(),
        t.app.settings.queue(),
        Handlers::default().with(handler.clone()),
    )
}

async fn enqueue(t: &TestApp, answers: &[&str]) -> i64 {
    let args = Scripted {
        answers: answers.iter().map(|a| a.to_string()).collect(),
    };
    let at = Enqueue {
        run_at_ms: t.app.clock.now_ms(),
        run_id: None,
        tenant_id: None,
        max_attempts: 3,
    };
    let mut tx = t.app.db.begin().await.expect("begin");
    let id = queue::enqueue(&mut tx, &args, at).await.expect("enqueue");
    tx.commit().await.expect("commit");
    id
}

/// The job's status, attempts, run_at_ms, last error and reason.
async fn row(t: &TestApp, id: i64) -> (String, i64, i64, Option<String>, Option<String>) {
    let mut db = t.app.db.clone();
    tenantatlas::storage::Exec::fetch_one(
        &mut db,
        "SELECT status, attempts, run_at_ms, last_error, reason FROM jobs WHERE id = $1",
        tenantatlas::args![id],
    )
    .await
    .expect("job row")
}

async fn step(w: &Worker) -> Step {
    w.run_once().await.expect("worker step")
}

fn ran(id: i64, recorded: Recorded) -> Step {
    Step::Ran {
        job_id: id,
        recorded,
    }
}

both_backends!(a_done_job_is_completed_with_its_hooks, |t| async move {
    let h = ScriptedHandler::default();
    let w = worker(t, &h);
    let id = enqueue(t, &["done"]).await;
    assert_eq!(step(&w).await, ran(id, Recorded::Completed));
    let (status, attempts, ..) = row(t, id).await;
    assert_eq!((status.as_str(), attempts), ("completed", 1));
    assert_eq!(
        h.calls(),
        [
            format!("completed {id} (done on attempt 1)"),
            format!("settled {id} completed")
        ]
    );
    assert_eq!(step(&w).await, Step::Idle);
});

both_backends!(
    a_snoozed_job_waits_without_spending_an_attempt,
    |t| async move {
        let h = ScriptedHandler::default();
        let w = worker(t, &h);
        let id = enqueue(t, &["snooze 60s"]).await;
        let now = t.app.clock.now_ms();
        assert_eq!(step(&w).await, ran(id, Recorded::Snoozed));
        let (status, attempts, run_at, error, reason) = row(t, id).await;
        assert_eq!((status.as_str(), attempts), ("available", 0));
        assert_eq!(run_at, now + 60_000);
        assert_eq!(error, None, "a snooze is no failure");
        assert_eq!(reason.as_deref(), Some("waiting.for_something"));
        assert_eq!(step(&w).await, Step::Idle, "it waits its time");
        // Snoozing again and again never runs out of attempts.
        for _ in 0..5 {
            t.clock.advance(chrono::Duration::seconds(61));
            assert_eq!(step(&w).await, ran(id, Recorded::Snoozed));
        }
        assert_eq!(row(t, id).await.1, 0);
        assert!(!h.calls().iter().any(|c| c.starts_with("discarded")));
    }
);

both_backends!(
    a_failing_job_backs_off_then_is_discarded_through_its_hook,
    |t| async move {
        let h = ScriptedHandler::default();
        let w = worker(t, &h);
        let id = enqueue(t, &["retry in 7s", "retry"]).await;
        let now = t.app.clock.now_ms();
        let failed = Recorded::Retryable("it failed".into());
        assert_eq!(step(&w).await, ran(id, failed.clone()));
        let (status, attempts, run_at, error, _) = row(t, id).await;
        assert_eq!((status.as_str(), attempts), ("retryable", 1));
        assert_eq!(run_at, now + 7_000, "the handler's own delay");
        assert_eq!(error.as_deref(), Some("it failed"));
        assert_eq!(step(&w).await, Step::Idle);

        t.clock.advance(chrono::Duration::seconds(7));
        let now = t.app.clock.now_ms();
        assert_eq!(step(&w).await, ran(id, failed));
        let (status, attempts, run_at, ..) = row(t, id).await;
        assert_eq!((status.as_str(), attempts), ("retryable", 2));
        // Test settings: backoff base 1 s, doubled for the second attempt.
        assert_eq!(run_at, now + 2_000, "the queue's backoff");

        t.clock.advance(chrono::Duration::seconds(2));
        let gone = Recorded::Discarded("it failed".into());
        assert_eq!(step(&w).await, ran(id, gone));
        let (status, attempts, _, _, reason) = row(t, id).await;
        assert_eq!((status.as_str(), attempts), ("discarded", 3));
        assert_eq!(reason.as_deref(), Some("job.attempts_exhausted"));
        let discarded: Vec<String> = h
            .calls()
            .into_iter()
            .filter(|c| c.starts_with("discarded"))
            .collect();
        assert_eq!(
            discarded,
            [format!("discarded {id} job.attempts_exhausted: it failed")]
        );
        t.clock.advance(chrono::Duration::hours(1));
        assert_eq!(step(&w).await, Step::Idle);
    }
);

both_backends!(
    a_discarded_or_cancelled_job_keeps_its_reason,
    |t| async move {
        let h = ScriptedHandler::default();
        let w = worker(t, &h);
        let refused = enqueue(t, &["discard"]).await;
        let gone = Recorded::Discarded("never this one".into());
        assert_eq!(step(&w).await, ran(refused, gone));
        let (status, attempts, _, error, reason) = row(t, refused).await;
        assert_eq!((status.as_str(), attempts), ("discarded", 1));
        assert_eq!(error.as_deref(), Some("never this one"));
        assert_eq!(reason.as_deref(), Some("test.refused"));
        assert!(
            h.calls()
                .contains(&format!("discarded {refused} test.refused: never this one"))
        );

        let unwanted = enqueue(t, &["cancel"]).await;
        assert_eq!(step(&w).await, ran(unwanted, Recorded::Cancelled));
        let (status, _, _, error, reason) = row(t, unwanted).await;
        assert_eq!(status, "cancelled");
        assert_eq!(error, None);
        assert_eq!(reason.as_deref(), Some("test.unwanted"));
    }
);

both_backends!(
    a_job_no_handler_can_take_is_discarded_not_left_running,
    |t| async move {
        let h = ScriptedHandler::default();
        let w = worker(t, &h);
        let mut tx = t.app.db.begin().await.unwrap();
        let stranger = q::NewJob {
            kind: JobKind("test.nobody"),
            payload: "{}",
            run_id: None,
            tenant_id: None,
            run_at_ms: t.app.clock.now_ms(),
            max_attempts: 3,
        };
        let unknown = q::enqueue(&mut tx, stranger).await.unwrap();
        let garbled = q::NewJob {
            kind: Scripted::KIND,
            payload: "{\"answers\": 7}",
            ..stranger
        };
        let unreadable = q::enqueue(&mut tx, garbled).await.unwrap();
        tx.commit().await.unwrap();

        for _ in 0..2 {
            assert!(matches!(
                step(&w).await,
                Step::Ran {
                    recorded: Recorded::Discarded(_),
                    ..
                }
            ));
        }
        let (status, _, _, error, reason) = row(t, unknown).await;
        assert_eq!(status, "discarded");
        assert_eq!(reason.as_deref(), Some("job.kind_unknown"));
        assert!(error.unwrap().contains("test.nobody"));
        let (status, _, _, _, reason) = row(t, unreadable).await;
        assert_eq!(status, "discarded");
        assert_eq!(reason.as_deref(), Some("job.bad_arguments"));
        assert_eq!(
            t.count("SELECT count(*) FROM jobs WHERE status = 'running'")
                .await,
            0
        );
    }
);

/// Migration 0011 names the states of jobs already in the database.
async fn job_states_are_renamed_by_the_migration(backend: crate::support::Backend) {
    use std::borrow::Cow;
    use tenantatlas::storage::Db;

    let Some(test_db) = crate::support::TestDb::new(backend).await else {
        return;
    };
    let db = Db::open(&test_db.url, 2).await.expect("open");
    let folder = match backend {
        crate::support::Backend::Sqlite => "migrations/sqlite",
        crate::support::Backend::Postgres => "migrations/postgres",
    };
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(folder))
        .await
        .expect("migrations");
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < 11)
            .cloned()
            .collect(),
    );
    match &db {
        Db::Sqlite(pool) => before.run(pool).await,
        Db::Postgres(pool) => before.run(pool).await,
    }
    .expect("migrate to 0010");
    let old = [
        ("alert.delivery", "queued", 0, None),
        ("alert.delivery", "queued", 1, Some("timed out")),
        ("alert.delivery", "done", 1, None),
        ("alert.delivery", "dead", 3, Some("refused")),
        ("alert.delivery", "cancelled", 0, None),
        ("runbook.tenant", "running", 1, None),
    ];
    for (kind, status, attempts, error) in old {
        db.clone()
            .execute(
                "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at_ms, last_error, \
                     created_at_ms, updated_at_ms) VALUES ($1, '{}', $2, $3, 3, 0, $4, 0, 0)",
                tenantatlas::args![kind, status, attempts as i64, error.map(str::to_owned)],
            )
            .await
            .expect("an old job");
    }
    db.migrate().await.expect("migrate to the end");
    let rows: Vec<(String, String)> = db
        .clone()
        .fetch_all("SELECT status, payload FROM jobs ORDER BY id", vec![])
        .await
        .expect("jobs");
    let statuses: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "available",
            "retryable",
            "completed",
            "discarded",
            "cancelled",
            "running"
        ]
    );
    let tenant_job: serde_json::Value = serde_json::from_str(&rows[5].1).expect("json");
    assert_eq!(
        tenant_job,
        serde_json::json!({"run_id": null, "tenant_id": null})
    );
    db.close().await;
    test_db.teardown().await;
}

#[tokio::test]
async fn job_states_are_renamed_on_sqlite() {
    job_states_are_renamed_by_the_migration(crate::support::Backend::Sqlite).await;
}

#[tokio::test]
async fn job_states_are_renamed_on_postgres() {
    job_states_are_renamed_by_the_migration(crate::support::Backend::Postgres).await;
}
