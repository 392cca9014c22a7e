//! The job engine of the durable queue. It knows no runbook and no alert:
//! each feature registers a [`JobHandler`] for its [`JobKind`].
//!
//! [`Worker::run_once`] claims and runs one job, so tests drive the queue a
//! step at a time; [`Worker::run`] loops it with bounded concurrency. A job
//! holds a lease renewed by a heartbeat; a job whose worker died is claimed
//! again once its lease expires. A failing job is retried with exponential
//! backoff up to its maximum attempts, then recorded dead ([`Job::fail`] is
//! the one place that decides).

mod batch;
mod heartbeat;
mod wake;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::clock::SharedClock;
use crate::domain::{JobKind, JobStatus};
use crate::error::Result;
use crate::storage::queue::{self as q, ClaimedJob};
use crate::storage::{Db, Tx};

use heartbeat::Leased;
pub use heartbeat::{Heartbeat, LeaseHook};

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// A job's lease, renewed by its heartbeat every third of it.
    pub job_lease_ms: i64,
    /// Attempts of a job before it is recorded dead.
    pub max_attempts: i64,
    /// First retry delay; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    /// How often an idle worker looks for work.
    pub poll_interval_ms: u64,
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing was ready.
    Idle,
    Ran {
        job_id: i64,
        outcome: JobOutcome,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Finished; its result is recorded.
    Done,
    /// What it works on was held by another job; back in the queue, no
    /// attempt used.
    TenantBusy,
    /// Failed; back in the queue after a backoff.
    Retrying(String),
    /// Failed for the last time.
    Dead(String),
    /// Cancelled, or the lease was lost; nothing recorded.
    Stopped,
}

/// The body of one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync {
    fn kind(&self) -> JobKind;

    /// Runs a claimed job. `tx` holds the claim: the handler commits it
    /// (with whatever it must do atomically with the claim) before slow work,
    /// and ends the job through [`Job`].
    async fn run(&self, job: &Job, tx: Tx) -> Result<JobOutcome>;

    /// Whether jobs of this kind may be claimed several at a time (quick
    /// jobs: a batch runs one job after another under one owner).
    fn batches(&self) -> bool {
        false
    }

    /// Runs jobs claimed together under one owner, in order; `tx` holds
    /// their claim. By default each runs alone, the first in `tx`.
    async fn run_batch(&self, jobs: Vec<Job>, tx: Tx) -> Result<Vec<JobOutcome>> {
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut claim = Some(tx);
        for job in &jobs {
            let tx = match claim.take() {
                Some(tx) => tx,
                None => job.db().begin_relaxed().await?,
            };
            outcomes.push(self.run(job, tx).await?);
        }
        Ok(outcomes)
    }
}

/// The retry-or-dead decision for a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Back in the queue after a backoff.
    Retrying,
    /// Out of attempts and recorded dead; `owned` is false when the lease
    /// had already passed to another worker (record nothing then).
    Dead { owned: bool },
}

/// A claimed job, as its handler sees it: the row, its lease owner, and the
/// engine's ways to end it.
pub struct Job {
    pub row: ClaimedJob,
    pub owner: String,
    engine: Engine,
}

impl Job {
    pub fn id(&self) -> i64 {
        self.row.id
    }

    pub fn db(&self) -> &Db {
        &self.engine.db
    }

    pub fn clock(&self) -> &SharedClock {
        &self.engine.clock
    }

    pub fn lease_ms(&self) -> i64 {
        self.engine.settings.job_lease_ms
    }

    /// Its worker died during its last allowed attempt: the lease ran out
    /// again, so this claim must not run it once more.
    pub fn attempts_exhausted(&self) -> bool {
        self.row.attempts > self.row.max_attempts
    }

    /// The error to record when [`Job::attempts_exhausted`].
    pub fn exhausted_error(&self) -> String {
        self.row
            .last_error
            .clone()
            .unwrap_or_else(|| "the worker stopped during every attempt".into())
    }

    /// Ends the job while this owner still holds it. False: the lease passed
    /// to another worker.
    pub async fn finish(
        &self,
        tx: &mut Tx,
        status: JobStatus,
        error: Option<String>,
    ) -> Result<bool> {
        let now = self.engine.clock.now_ms();
        Ok(q::finish(tx, self.row.id, &self.owner, status, error, now).await?)
    }

    /// Ends the job in `tx`, commits, and says so.
    pub async fn end(
        &self,
        mut tx: Tx,
        status: JobStatus,
        error: Option<String>,
    ) -> Result<JobOutcome> {
        self.finish(&mut tx, status, error.clone()).await?;
        tx.commit().await?;
        Ok(match (status, error) {
            (JobStatus::Cancelled, _) => JobOutcome::Stopped,
            (_, Some(e)) => JobOutcome::Dead(e),
            (_, None) => JobOutcome::Done,
        })
    }

    /// A failed attempt: back in the queue with exponential backoff while
    /// attempts remain, else recorded dead.
    pub async fn fail(&self, tx: &mut Tx, error: &str) -> Result<Failed> {
        let now = self.engine.clock.now_ms();
        if self.row.attempts < self.row.max_attempts {
            let at = now + backoff_ms(&self.engine.settings, self.row.attempts);
            let error = Some(error.to_owned());
            q::requeue(tx, self.row.id, &self.owner, at, error, false, now).await?;
            Ok(Failed::Retrying)
        } else {
            let owned = self
                .finish(tx, JobStatus::Dead, Some(error.to_owned()))
                .await?;
            Ok(Failed::Dead { owned })
        }
    }

    /// Back in the queue after `delay_ms` with its attempt given back: what
    /// it needs is busy, which is not its failure.
    pub async fn later(&self, tx: &mut Tx, delay_ms: i64) -> Result<()> {
        let now = self.engine.clock.now_ms();
        q::requeue(
            tx,
            self.row.id,
            &self.owner,
            now + delay_ms,
            None,
            true,
            now,
        )
        .await?;
        Ok(())
    }

    /// Keeps the lease alive while the job works; `hook` renews whatever
    /// else the job holds under the same lease.
    pub fn heartbeat(&self, hook: Option<Arc<dyn LeaseHook>>) -> Heartbeat {
        Heartbeat::start(
            self.engine.db.clone(),
            self.engine.clock.clone(),
            Leased::Job(self.row.id),
            self.owner.clone(),
            self.engine.settings.job_lease_ms,
            hook,
        )
    }

    /// One heartbeat for a batch of jobs claimed together (this one's owner
    /// holds them all): it renews every running job of the owner, and raises
    /// the stop flag when fewer than `held` were renewed (a lease was lost).
    pub fn batch_heartbeat(
        &self,
        held: Arc<AtomicUsize>,
        hook: Option<Arc<dyn LeaseHook>>,
    ) -> Heartbeat {
        Heartbeat::start(
            self.engine.db.clone(),
            self.engine.clock.clone(),
            Leased::Batch(held),
            self.owner.clone(),
            self.engine.settings.job_lease_ms,
            hook,
        )
    }
}

#[derive(Clone)]
struct Engine {
    db: Db,
    clock: SharedClock,
    settings: Arc<QueueSettings>,
}

#[derive(Clone)]
pub struct Worker {
    engine: Engine,
    handlers: Arc<HashMap<&'static str, Arc<dyn JobHandler>>>,
    id: String,
    claims: Arc<AtomicU64>,
}

/// Every this many claims a worker looks for jobs of dead workers first;
/// otherwise only when nothing is ready.
const RECLAIM_EVERY: u64 = 16;

impl Worker {
    pub fn new(
        db: Db,
        clock: SharedClock,
        settings: QueueSettings,
        handlers: Vec<Arc<dyn JobHandler>>,
    ) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Worker {
            engine: Engine {
                db,
                clock,
                settings: Arc::new(settings),
            },
            handlers: Arc::new(handlers.into_iter().map(|h| (h.kind().0, h)).collect()),
            id: format!(
                "{host}:{}:{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
            claims: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Claims one job and runs it to its end.
    pub async fn run_once(&self) -> Result<Step> {
        let engine = &self.engine;
        let now = engine.clock.now_ms();
        let owner = format!("{}:{}", self.id, uuid::Uuid::new_v4().simple());
        let mut tx = engine.db.begin_relaxed().await?;
        let expired_first = self
            .claims
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(RECLAIM_EVERY);
        let lease = engine.settings.job_lease_ms;
        let Some(row) = q::claim(&mut tx, &owner, now, lease, expired_first).await? else {
            tx.rollback().await?;
            return Ok(Step::Idle);
        };
        let kind = row.kind.clone();
        metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => kind.clone()).increment(1);
        tracing::debug!(job = row.id, %kind, attempt = row.attempts, "claimed job");
        let job = Job {
            row,
            owner,
            engine: engine.clone(),
        };
        let outcome = match self.handlers.get(kind.as_str()) {
            Some(handler) => handler.run(&job, tx).await?,
            None => {
                let error = format!("unknown job kind {kind:?}");
                job.end(tx, JobStatus::Dead, Some(error)).await?
            }
        };
        if matches!(outcome, JobOutcome::Dead(_) | JobOutcome::Retrying(_)) {
            metrics::counter!("tenantatlas_jobs_failed_total", "kind" => kind).increment(1);
        }
        Ok(Step::Ran {
            job_id: job.row.id,
            outcome,
        })
    }

    /// Runs `concurrency` job loops until `shutdown` turns true; a job under
    /// way is finished first. Idle loops wait to be woken (see `wake`).
    pub async fn run(self, concurrency: usize, shutdown: watch::Receiver<bool>) {
        let wake = Arc::new(tokio::sync::Notify::new());
        let watcher = tokio::spawn(wake::watch(
            self.engine.clone(),
            wake.clone(),
            shutdown.clone(),
        ));
        let mut loops = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            loops.spawn(self.clone().job_loop(wake.clone(), shutdown.clone()));
        }
        while let Some(ended) = loops.join_next().await {
            // A loop only ends early by panicking: its job is taken over when
            // its lease expires, and the loop is replaced.
            if let Err(e) = ended
                && !*shutdown.borrow()
            {
                tracing::error!(error = %e, "a job loop stopped unexpectedly; starting another");
                loops.spawn(self.clone().job_loop(wake.clone(), shutdown.clone()));
            }
        }
        watcher.abort();
    }
}

/// Exponential backoff: base · 2^(attempt-1), capped.
pub fn backoff_ms(settings: &QueueSettings, attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 20) as u32;
    settings
        .backoff_base_ms
        .saturating_mul(1i64 << exp)
        .min(settings.backoff_max_ms)
}
