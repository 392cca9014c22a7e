//! The worker and its job loops: a loop claims one job, or, while the jobs
//! of a batching kind ([`JobHandler::batch_limit`]) keep finishing quickly,
//! several in one statement; slow jobs take it back towards one at a time,
//! so long jobs still spread over every loop ([`BatchSize`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::executor::{Engine, Execute, Kind, discard_row};
use super::{JobHandler, QueueSettings, Reason, Recorded};
use crate::clock::SharedClock;
use crate::error::Result;
use crate::storage::Db;
use crate::storage::queue as q;

/// The most jobs a loop claims at once.
pub const MAX_BATCH: usize = 32;

/// A batch whose jobs took less than this each lets the next one double; a
/// slower one halves it. Generous, so that a loaded machine (slow thread
/// wake-ups) still batches jobs with nothing to do, while jobs with real
/// work (tens of milliseconds and more) go one or two at a time.
const QUICK_JOB: Duration = Duration::from_millis(25);

/// Every this many steps a loop claims a single job (ready or whose lease
/// expired) instead of a batch, so other kinds and dead workers' jobs are not
/// left behind while a long fan-out drains.
const SINGLE_EVERY: u64 = 16;

/// Every this many claims a worker looks for jobs of dead workers first;
/// otherwise only when nothing is ready.
const RECLAIM_EVERY: u64 = 16;

/// An idle loop looks again after this long even when nothing woke it.
const IDLE_FALLBACK: Duration = Duration::from_secs(5);

/// How many jobs a loop claims next: doubled after a batch of quick jobs,
/// halved after a slow one, back to one when nothing was ready or a step
/// failed; between 1 and [`MAX_BATCH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSize(usize);

impl Default for BatchSize {
    fn default() -> Self {
        BatchSize(1)
    }
}

impl BatchSize {
    pub fn get(self) -> usize {
        self.0
    }

    /// After a step that ran `jobs` jobs in `took`.
    pub fn after(self, jobs: usize, took: Duration) -> BatchSize {
        if jobs == 0 {
            return BatchSize(1);
        }
        if took < QUICK_JOB * jobs as u32 {
            BatchSize((self.0 * 2).min(MAX_BATCH))
        } else {
            BatchSize((self.0 / 2).max(1))
        }
    }
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing was ready.
    Idle,
    /// A job ran, and this was recorded for it.
    Ran { job_id: i64, recorded: Recorded },
}

/// The kinds a worker runs, each with its handler.
#[derive(Default)]
pub struct Handlers(Vec<Arc<dyn Execute>>);

impl Handlers {
    pub fn with<H: JobHandler>(mut self, handler: H) -> Handlers {
        self.0.push(Arc::new(Kind(handler)));
        self
    }
}

#[derive(Clone)]
pub struct Worker {
    engine: Engine,
    kinds: Arc<HashMap<&'static str, Arc<dyn Execute>>>,
    /// The kinds that batch, in registration order.
    batching: Arc<Vec<Arc<dyn Execute>>>,
    id: String,
    claims: Arc<AtomicU64>,
    next_batching: Arc<AtomicUsize>,
}

impl Worker {
    pub fn new(db: Db, clock: SharedClock, settings: QueueSettings, handlers: Handlers) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        let batching = handlers
            .0
            .iter()
            .filter(|k| k.batch_limit() > 1)
            .cloned()
            .collect();
        Worker {
            engine: Engine {
                db,
                clock,
                settings: Arc::new(settings),
            },
            kinds: Arc::new(handlers.0.into_iter().map(|k| (k.kind().0, k)).collect()),
            batching: Arc::new(batching),
            id: format!(
                "{host}:{}:{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ),
            claims: Arc::new(AtomicU64::new(0)),
            next_batching: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// A lease owner for one claim: this worker, and the claim.
    fn owner(&self) -> String {
        format!("{}:{}", self.id, uuid::Uuid::new_v4().simple())
    }

    /// Claims one job of any kind and runs it to its recorded outcome.
    pub async fn run_once(&self) -> Result<Step> {
        let engine = &self.engine;
        let now = engine.clock.now_ms();
        let owner = self.owner();
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
        let job_id = row.id;
        metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => row.kind.clone())
            .increment(1);
        tracing::debug!(job = job_id, kind = %row.kind, attempt = row.attempts, "claimed job");
        let Some(kind) = self.kinds.get(row.kind.as_str()).cloned() else {
            let why = Reason::new(
                "job.kind_unknown",
                format!("unknown job kind {:?}", row.kind),
            );
            let recorded = discard_row(engine, &mut tx, &row, &owner, why).await?;
            tx.commit().await?;
            return Ok(Step::Ran { job_id, recorded });
        };
        let report = kind.execute(engine, owner, vec![row], tx).await?;
        let recorded = report
            .into_iter()
            .find(|(id, _)| *id == job_id)
            .map_or(Recorded::LeaseLost, |(_, r)| r);
        Ok(Step::Ran { job_id, recorded })
    }

    /// Claims up to `limit` ready jobs of a batching kind in one statement
    /// and runs them; with none ready, runs one job of any kind like
    /// [`Worker::run_once`]. Returns how many jobs ran.
    pub async fn run_batch(&self, limit: usize) -> Result<usize> {
        let kinds = self.batching.len();
        let first = self.next_batching.fetch_add(1, Ordering::Relaxed);
        for i in 0..kinds {
            let kind = &self.batching[(first + i) % kinds];
            let engine = &self.engine;
            let now = engine.clock.now_ms();
            let owner = self.owner();
            let mut tx = engine.db.begin_relaxed().await?;
            let lease = engine.settings.job_lease_ms;
            let limit = limit.min(kind.batch_limit()) as i64;
            let rows = q::claim_many(&mut tx, kind.kind(), &owner, now, lease, limit).await?;
            if rows.is_empty() {
                tx.rollback().await?;
                continue;
            }
            let n = rows.len();
            let name = kind.kind().as_str();
            metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => name).increment(n as u64);
            tracing::debug!(jobs = n, kind = name, "claimed a batch");
            kind.execute(engine, owner, rows, tx).await?;
            return Ok(n);
        }
        self.run_once().await.map(ran)
    }

    /// Runs `concurrency` job loops until `shutdown` turns true; a job under
    /// way is finished first. Idle loops wait to be woken (see `wake`).
    pub async fn run(self, concurrency: usize, shutdown: watch::Receiver<bool>) {
        let wake = Arc::new(Notify::new());
        let watcher = tokio::spawn(super::wake::watch(
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

    async fn job_loop(self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.engine.settings.poll_interval_ms);
        let mut size = BatchSize::default();
        let mut steps = 0u64;
        while !*shutdown.borrow() {
            // Listening starts before the look, so a wake-up during it counts.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            steps += 1;
            let started = Instant::now();
            let step = if size.get() > 1 && !steps.is_multiple_of(SINGLE_EVERY) {
                self.run_batch(size.get()).await
            } else {
                self.run_once().await.map(ran)
            };
            match step {
                Ok(0) => size = BatchSize::default(),
                Ok(n) => {
                    size = size.after(n, started.elapsed());
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e.detail(), "worker step failed");
                    size = BatchSize::default();
                    tokio::select! {
                        _ = tokio::time::sleep(idle * 4) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(IDLE_FALLBACK) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

fn ran(step: Step) -> usize {
    match step {
        Step::Idle => 0,
        Step::Ran { .. } => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Duration = Duration::from_millis(1);

    #[test]
    fn a_loop_starts_one_at_a_time() {
        assert_eq!(BatchSize::default().get(), 1);
    }

    #[test]
    fn quick_jobs_double_the_batch_up_to_the_cap() {
        let mut size = BatchSize::default();
        let mut seen = Vec::new();
        for _ in 0..8 {
            size = size.after(size.get(), QUICK);
            seen.push(size.get());
        }
        assert_eq!(seen, [2, 4, 8, 16, 32, 32, 32, 32]);
    }

    #[test]
    fn slow_jobs_halve_the_batch_down_to_one() {
        let mut size = BatchSize(32);
        let mut seen = Vec::new();
        for _ in 0..7 {
            let slow = QUICK_JOB * size.get() as u32;
            size = size.after(size.get(), slow);
            seen.push(size.get());
        }
        assert_eq!(seen, [16, 8, 4, 2, 1, 1, 1]);
    }

    #[test]
    fn quick_means_under_the_budget_for_the_jobs_that_ran() {
        let size = BatchSize(8);
        // Three jobs ran (fewer than asked): the budget is three quick jobs.
        let just_under = QUICK_JOB * 3 - Duration::from_millis(1);
        assert_eq!(size.after(3, just_under), BatchSize(16));
        assert_eq!(size.after(3, QUICK_JOB * 3), BatchSize(4));
    }

    #[test]
    fn nothing_ready_goes_back_to_one() {
        assert_eq!(BatchSize(16).after(0, QUICK), BatchSize(1));
    }
}
