//! Workers of the durable job queue.
//!
//! [`Worker::run_once`] claims and runs one job, so tests drive the queue a
//! step at a time; [`Worker::run`] loops it with bounded concurrency. A job
//! holds a lease renewed by a heartbeat; a job whose worker died is claimed
//! again once its lease expires. Failures are retried with exponential
//! backoff up to the maximum attempts, then the job is recorded dead and its
//! tenant counted failed on the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts;
use crate::app::App;
use crate::error::Result;
use crate::runbooks::{JobError, TenantJob};
use crate::runs::{ItemFailure, TenantResult};
use crate::storage::queue::{self as q, ClaimedJob};
use crate::storage::{self, Tx};

/// Kind of the per-tenant runbook job.
pub const TENANT_JOB: &str = "runbook.tenant";

pub const REASON_ATTEMPTS_EXHAUSTED: &str = "job.attempts_exhausted";
pub const REASON_UNKNOWN_RUNBOOK: &str = "runbook.unknown";

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
    /// Finished; the tenant's result is recorded.
    Done,
    /// The tenant was locked by another job; back in the queue, no attempt used.
    TenantBusy,
    /// Failed; back in the queue after a backoff.
    Retrying(String),
    /// Failed for the last time; the tenant counts as failed.
    Dead(String),
    /// The run was cancelled or the lease lost; nothing recorded.
    Stopped,
}

#[derive(Clone)]
pub struct Worker {
    app: App,
    id: String,
    claims: Arc<AtomicU64>,
}

/// Every this many claims a worker looks for jobs of dead workers first;
/// otherwise only when nothing is ready.
const RECLAIM_EVERY: u64 = 16;

impl Worker {
    pub fn new(app: App) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Worker {
            app,
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
        let now = self.app.clock.now_ms();
        let owner = format!("{}:{}", self.id, uuid::Uuid::new_v4().simple());
        // The claim and, for a tenant job, its tenant lock and the run's start
        // are one transaction.
        let mut tx = self.app.db.begin_relaxed().await?;
        let expired_first = self
            .claims
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(RECLAIM_EVERY);
        let lease = self.app.settings.job_lease_ms;
        let Some(job) = q::claim(&mut tx, &owner, now, lease, expired_first).await? else {
            tx.rollback().await?;
            return Ok(Step::Idle);
        };
        metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => job.kind.clone())
            .increment(1);
        tracing::debug!(job = job.id, kind = %job.kind, attempt = job.attempts, "claimed job");
        let outcome = match job.kind.as_str() {
            TENANT_JOB => self.run_tenant_job(tx, &job, &owner).await?,
            alerts::DELIVERY_JOB => {
                tx.commit().await?;
                self.run_delivery_job(&job, &owner).await?
            }
            other => {
                self.end(
                    tx,
                    &job,
                    &owner,
                    "dead",
                    Some(format!("unknown job kind {other:?}")),
                )
                .await?
            }
        };
        if matches!(outcome, JobOutcome::Dead(_) | JobOutcome::Retrying(_)) {
            metrics::counter!("tenantatlas_jobs_failed_total", "kind" => job.kind.clone())
                .increment(1);
        }
        Ok(Step::Ran {
            job_id: job.id,
            outcome,
        })
    }

    /// `tx` holds the claim; it is committed before the tenant's work starts.
    async fn run_tenant_job(
        &self,
        mut tx: Tx,
        job: &ClaimedJob,
        owner: &str,
    ) -> Result<JobOutcome> {
        let app = &self.app;
        let (Some(run_id), Some(tenant_id)) = (job.run_id, job.tenant_id) else {
            return self
                .end(
                    tx,
                    job,
                    owner,
                    "dead",
                    Some("tenant job without run or tenant".into()),
                )
                .await;
        };
        let run = match (&job.run_type, &job.run_status) {
            (Some(run_type), Some(status)) => storage::runs::RunHead {
                run_type: run_type.clone(),
                status: status.clone(),
                tenant_workspace_id: job.tenant_workspace_id,
            },
            _ => {
                let error = format!("run {run_id} does not exist");
                return self.end(tx, job, owner, "dead", Some(error)).await;
            }
        };
        if run.is_completed() {
            self.end(tx, job, owner, "cancelled", None).await?;
            return Ok(JobOutcome::Stopped);
        }
        if job.attempts > job.max_attempts {
            // Its worker died on the last attempt: the lease ran out again.
            let error = job
                .last_error
                .clone()
                .unwrap_or_else(|| "the worker stopped during every attempt".into());
            return self
                .give_up(
                    tx,
                    job,
                    owner,
                    run_id,
                    tenant_id,
                    REASON_ATTEMPTS_EXHAUSTED,
                    error,
                )
                .await;
        }
        let Some(runbook) = app.registry.get(&run.run_type) else {
            let error = format!("runbook {:?} is not registered", run.run_type);
            return self
                .give_up(
                    tx,
                    job,
                    owner,
                    run_id,
                    tenant_id,
                    REASON_UNKNOWN_RUNBOOK,
                    error,
                )
                .await;
        };
        let Some(workspace_id) = run.tenant_workspace_id else {
            let error = format!("tenant {tenant_id} does not exist");
            return self
                .give_up(tx, job, owner, run_id, tenant_id, "tenant.missing", error)
                .await;
        };
        let now = app.clock.now_ms();
        let lease = app.settings.job_lease_ms;
        if !q::lock_tenant(&mut tx, tenant_id, owner, now, now + lease).await? {
            q::requeue(
                &mut tx,
                job.id,
                owner,
                now + app.settings.locked_retry_ms,
                None,
                true,
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(JobOutcome::TenantBusy);
        }
        if run.status == "queued" {
            storage::runs::mark_running(&mut tx, run_id, app.clock.now()).await?;
        }
        tx.commit().await?;

        let stop = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(
            app.clone(),
            job.id,
            tenant_id,
            owner.to_owned(),
            stop.clone(),
        ));
        let work = TenantJob::new(
            app.db.clone(),
            run_id,
            tenant_id,
            workspace_id,
            app.settings.chunk_size,
            stop.clone(),
        );
        let result = runbook.run_tenant(&work).await;
        heartbeat.abort();

        // The lock's release, the job's end and its tenant's result are one
        // transaction; the run's shared row is touched last.
        let mut tx = app.db.begin_relaxed().await?;
        q::unlock_tenant(&mut tx, tenant_id, owner).await?;
        let outcome = match result {
            Ok(result) => {
                let now = app.clock.now();
                if q::finish(&mut tx, job.id, owner, "done", None, now.timestamp_millis()).await? {
                    app.runs()
                        .record_tenant_result(&mut tx, run_id, tenant_id, &result, now)
                        .await?;
                    JobOutcome::Done
                } else {
                    // The lease was lost: another worker owns the job now.
                    JobOutcome::Stopped
                }
            }
            Err(JobError::Stopped) => {
                if storage::runs::head(&mut tx, run_id, tenant_id)
                    .await?
                    .is_some_and(|r| r.is_completed())
                {
                    q::finish(
                        &mut tx,
                        job.id,
                        owner,
                        "cancelled",
                        None,
                        app.clock.now_ms(),
                    )
                    .await?;
                }
                JobOutcome::Stopped
            }
            Err(JobError::Failed(error)) => {
                tracing::warn!(job = job.id, run = run_id, tenant = tenant_id, attempt = job.attempts, %error, "tenant job failed");
                if job.attempts < job.max_attempts {
                    self.retry_later(&mut tx, job, owner, &error).await?;
                    JobOutcome::Retrying(error)
                } else {
                    self.record_dead(
                        &mut tx,
                        job,
                        owner,
                        run_id,
                        tenant_id,
                        REASON_ATTEMPTS_EXHAUSTED,
                        &error,
                    )
                    .await?;
                    JobOutcome::Dead(error)
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Sends one alert delivery; failures are retried with backoff, then
    /// the delivery is recorded failed.
    async fn run_delivery_job(&self, job: &ClaimedJob, owner: &str) -> Result<JobOutcome> {
        let app = &self.app;
        let sent = if job.attempts > job.max_attempts {
            Err(job
                .last_error
                .clone()
                .unwrap_or_else(|| "the worker stopped during every attempt".into()))
        } else {
            alerts::deliver(app, &job.payload).await
        };
        let mut tx = app.db.begin_relaxed().await?;
        match sent {
            Ok(()) => self.end(tx, job, owner, "done", None).await,
            Err(error) if job.attempts < job.max_attempts => {
                self.retry_later(&mut tx, job, owner, &error).await?;
                tx.commit().await?;
                Ok(JobOutcome::Retrying(error))
            }
            Err(error) => {
                alerts::delivery_dead(&mut tx, &job.payload).await?;
                self.end(tx, job, owner, "dead", Some(error)).await
            }
        }
    }

    /// Puts a failed job back with exponential backoff, keeping its error.
    async fn retry_later(
        &self,
        tx: &mut Tx,
        job: &ClaimedJob,
        owner: &str,
        error: &str,
    ) -> Result<()> {
        let now = self.app.clock.now_ms();
        let delay = backoff_ms(&self.app.settings, job.attempts);
        q::requeue(
            tx,
            job.id,
            owner,
            now + delay,
            Some(error.to_owned()),
            false,
            now,
        )
        .await?;
        Ok(())
    }

    /// Ends the job in `tx` and commits.
    async fn end(
        &self,
        mut tx: Tx,
        job: &ClaimedJob,
        owner: &str,
        status: &str,
        error: Option<String>,
    ) -> Result<JobOutcome> {
        q::finish(
            &mut tx,
            job.id,
            owner,
            status,
            error.clone(),
            self.app.clock.now_ms(),
        )
        .await?;
        tx.commit().await?;
        Ok(match error {
            Some(e) => JobOutcome::Dead(e),
            None => JobOutcome::Done,
        })
    }

    /// Records the job dead and its tenant failed on the run, in `tx`, and commits.
    #[allow(clippy::too_many_arguments)]
    async fn give_up(
        &self,
        mut tx: Tx,
        job: &ClaimedJob,
        owner: &str,
        run_id: i64,
        tenant_id: i64,
        reason_code: &str,
        error: String,
    ) -> Result<JobOutcome> {
        self.record_dead(&mut tx, job, owner, run_id, tenant_id, reason_code, &error)
            .await?;
        tx.commit().await?;
        Ok(JobOutcome::Dead(error))
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_dead(
        &self,
        tx: &mut Tx,
        job: &ClaimedJob,
        owner: &str,
        run_id: i64,
        tenant_id: i64,
        reason_code: &str,
        error: &str,
    ) -> Result<()> {
        let now = self.app.clock.now();
        let result = TenantResult {
            items_in_target_state: 0,
            items_failed: 0,
            failures: vec![ItemFailure {
                reason_code: reason_code.into(),
                message: error.into(),
            }],
        };
        if q::finish(
            tx,
            job.id,
            owner,
            "dead",
            Some(error.into()),
            now.timestamp_millis(),
        )
        .await?
        {
            self.app
                .runs()
                .record_tenant_result(tx, run_id, tenant_id, &result, now)
                .await?;
        }
        Ok(())
    }

    /// Runs `concurrency` job loops until `shutdown` turns true; a job under
    /// way is finished first.
    pub async fn run(self, concurrency: usize, shutdown: watch::Receiver<bool>) {
        let mut loops = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            loops.spawn(self.clone().job_loop(shutdown.clone()));
        }
        while let Some(ended) = loops.join_next().await {
            // A loop only ends early by panicking: its job is taken over when
            // its lease expires, and the loop is replaced.
            if let Err(e) = ended
                && !*shutdown.borrow()
            {
                tracing::error!(error = %e, "a job loop stopped unexpectedly; starting another");
                loops.spawn(self.clone().job_loop(shutdown.clone()));
            }
        }
    }

    async fn job_loop(self, mut shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.app.settings.poll_interval_ms);
        while !*shutdown.borrow() {
            let pause = match self.run_once().await {
                Ok(Step::Ran { .. }) => continue,
                Ok(Step::Idle) => idle,
                Err(e) => {
                    tracing::error!(error = %e.detail(), "worker step failed");
                    idle * 4
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Keeps the job's lease and the tenant's lock alive; raises `stop` when the
/// lease is lost so the work ends instead of racing its new owner.
async fn heartbeat(app: App, job_id: i64, tenant_id: i64, owner: String, stop: Arc<AtomicBool>) {
    let lease = app.settings.job_lease_ms;
    let every = Duration::from_millis((lease / 3).max(50) as u64);
    loop {
        tokio::time::sleep(every).await;
        let now = app.clock.now_ms();
        match q::renew(&mut app.db.clone(), job_id, &owner, now + lease, now).await {
            Ok(true) => {
                if let Err(e) =
                    q::renew_tenant_lock(&mut app.db.clone(), tenant_id, &owner, now + lease).await
                {
                    tracing::warn!(job = job_id, error = %e, "renewing the tenant lock failed");
                }
            }
            Ok(false) => {
                tracing::warn!(job = job_id, "lease lost; stopping the job");
                stop.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(job = job_id, error = %e, "renewing the lease failed"),
        }
    }
}

/// Exponential backoff: base · 2^(attempt-1), capped.
pub fn backoff_ms(settings: &crate::app::Settings, attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 20) as u32;
    settings
        .backoff_base_ms
        .saturating_mul(1i64 << exp)
        .min(settings.backoff_max_ms)
}
