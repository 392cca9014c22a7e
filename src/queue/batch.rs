//! The job loops: a loop claims one job, or, while the jobs of a batching
//! kind ([`JobHandler::batches`]) keep finishing quickly, several in one
//! statement, up to [`MAX_BATCH`]; slow jobs take it back towards one at a
//! time, so long jobs still spread over every loop.

use std::time::{Duration, Instant};

use tokio::sync::{Notify, watch};

use super::{Job, JobOutcome, Step, Worker};
use crate::error::Result;
use crate::storage::queue as q;

/// The most jobs a loop claims at once.
pub const MAX_BATCH: usize = 32;

/// A batch whose jobs took less than this each lets the next one double; a
/// slower one halves it. Generous, so that a loaded machine (slow thread
/// wake-ups) still batches tenants with nothing to do, while tenants with
/// real work (tens of milliseconds and more) go one or two at a time.
const QUICK_JOB: Duration = Duration::from_millis(25);

/// Every this many steps a loop claims a single job (ready or whose lease
/// expired) instead of a batch, so other kinds and dead workers' jobs are not
/// left behind while a long fan-out drains.
const SINGLE_EVERY: u64 = 16;

/// An idle loop looks again after this long even when nothing woke it.
const IDLE_FALLBACK: Duration = Duration::from_secs(5);

impl Worker {
    /// Claims up to `limit` ready jobs of the batching kind in one statement
    /// and runs them; with none ready, runs one job of any kind like
    /// [`Worker::run_once`]. Returns how many jobs ran.
    pub async fn run_batch(&self, limit: usize) -> Result<usize> {
        let Some(handler) = self.handlers.values().find(|h| h.batches()).cloned() else {
            return self.run_once().await.map(ran);
        };
        let engine = &self.engine;
        let now = engine.clock.now_ms();
        let owner = format!("{}:{}", self.id, uuid::Uuid::new_v4().simple());
        let mut tx = engine.db.begin_relaxed().await?;
        let lease = engine.settings.job_lease_ms;
        let kind = handler.kind().0;
        let rows = q::claim_many(&mut tx, kind, &owner, now, lease, limit as i64).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return self.run_once().await.map(ran);
        }
        let n = rows.len();
        metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => kind).increment(n as u64);
        tracing::debug!(jobs = n, kind, "claimed a batch");
        let jobs = rows
            .into_iter()
            .map(|row| Job {
                row,
                owner: owner.clone(),
                engine: engine.clone(),
            })
            .collect();
        let outcomes = handler.run_batch(jobs, tx).await?;
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o, JobOutcome::Dead(_) | JobOutcome::Retrying(_)))
            .count();
        if failed > 0 {
            metrics::counter!("tenantatlas_jobs_failed_total", "kind" => kind)
                .increment(failed as u64);
        }
        Ok(n)
    }

    pub(super) async fn job_loop(
        self,
        wake: std::sync::Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let idle = Duration::from_millis(self.engine.settings.poll_interval_ms);
        let mut size = 1usize;
        let mut steps = 0u64;
        while !*shutdown.borrow() {
            // Listening starts before the look, so a wake-up during it counts.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            steps += 1;
            let started = Instant::now();
            let step = if size > 1 && !steps.is_multiple_of(SINGLE_EVERY) {
                self.run_batch(size).await
            } else {
                self.run_once().await.map(ran)
            };
            match step {
                Ok(0) => size = 1,
                Ok(n) => {
                    size = if started.elapsed() < QUICK_JOB * n as u32 {
                        (size * 2).min(MAX_BATCH)
                    } else {
                        (size / 2).max(1)
                    };
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e.detail(), "worker step failed");
                    size = 1;
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
