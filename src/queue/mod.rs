//! Workers of the durable job queue.
//!
//! [`Worker::run_once`] claims and runs one job, so tests drive the queue a
//! step at a time; [`Worker::run`] loops it with bounded concurrency. A job
//! holds a lease renewed by a heartbeat; a job whose worker died is claimed
//! again once its lease expires. Failures are retried with exponential
//! backoff up to the maximum attempts, then the job is recorded dead and its
//! tenant counted failed on the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::App;
use crate::error::Result;
use crate::runbooks::{JobError, TenantJob};
use crate::runs::{ItemFailure, OperationRunService, RunStatus, TenantResult};
use crate::storage::queue::{self as q, ClaimedJob};
use crate::storage::directory;

/// Kind of the per-tenant runbook job.
pub const TENANT_JOB: &str = "runbook.tenant";

pub const REASON_ATTEMPTS_EXHAUSTED: &str = "job.attempts_exhausted";
pub const REASON_UNKNOWN_RUNBOOK: &str = "runbook.unknown";

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing was ready.
    Idle,
    Ran { job_id: i64, outcome: JobOutcome },
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
}

impl Worker {
    pub fn new(app: App) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Worker { app, id: format!("{host}:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple()) }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims one job and runs it to its end.
    pub async fn run_once(&self) -> Result<Step> {
        let now = self.app.clock.now_ms();
        let owner = format!("{}:{}", self.id, uuid::Uuid::new_v4().simple());
        let Some(job) = q::claim(&self.app.db, &owner, now, self.app.settings.job_lease_ms).await? else {
            return Ok(Step::Idle);
        };
        metrics::counter!("tenantatlas_jobs_claimed_total", "kind" => job.kind.clone()).increment(1);
        tracing::debug!(job = job.id, kind = %job.kind, attempt = job.attempts, "claimed job");
        let outcome = match job.kind.as_str() {
            TENANT_JOB => self.run_tenant_job(&job, &owner).await?,
            other => {
                let error = format!("unknown job kind {other:?}");
                let mut tx = self.app.db.begin().await?;
                q::finish(&mut tx, job.id, &owner, "dead", Some(error.clone()), now).await?;
                tx.commit().await?;
                JobOutcome::Dead(error)
            }
        };
        if matches!(outcome, JobOutcome::Dead(_) | JobOutcome::Retrying(_)) {
            metrics::counter!("tenantatlas_jobs_failed_total", "kind" => job.kind.clone()).increment(1);
        }
        Ok(Step::Ran { job_id: job.id, outcome })
    }

    async fn run_tenant_job(&self, job: &ClaimedJob, owner: &str) -> Result<JobOutcome> {
        let app = &self.app;
        let (Some(run_id), Some(tenant_id)) = (job.run_id, job.tenant_id) else {
            return self.finish(job, owner, "dead", Some("tenant job without run or tenant".into())).await;
        };
        let Some(run) = app.runs().find(run_id).await? else {
            return self.finish(job, owner, "dead", Some(format!("run {run_id} does not exist"))).await;
        };
        if run.status == RunStatus::Completed {
            self.finish(job, owner, "cancelled", None).await?;
            return Ok(JobOutcome::Stopped);
        }
        if job.attempts > job.max_attempts {
            // Its worker died on the last attempt: the lease ran out again.
            let error = job.last_error.clone().unwrap_or_else(|| "the worker stopped during every attempt".into());
            return self.give_up(job, owner, run_id, tenant_id, REASON_ATTEMPTS_EXHAUSTED, error).await;
        }
        let Some(runbook) = app.registry.get(&run.run_type) else {
            let error = format!("runbook {:?} is not registered", run.run_type);
            return self.give_up(job, owner, run_id, tenant_id, REASON_UNKNOWN_RUNBOOK, error).await;
        };
        let Some(tenant) = directory::tenant(&app.db, tenant_id).await? else {
            let error = format!("tenant {tenant_id} does not exist");
            return self.give_up(job, owner, run_id, tenant_id, "tenant.missing", error).await;
        };

        let now = app.clock.now_ms();
        let lease = app.settings.job_lease_ms;
        if !q::lock_tenant(&app.db, tenant_id, owner, now, now + lease).await? {
            q::requeue(&app.db, job.id, owner, now + app.settings.locked_retry_ms, None, true, now).await?;
            return Ok(JobOutcome::TenantBusy);
        }
        app.runs().mark_running(run_id).await?;

        let stop = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(app.clone(), job.id, tenant_id, owner.to_owned(), stop.clone()));
        let work = TenantJob::new(
            app.db.clone(),
            run_id,
            tenant_id,
            tenant.workspace_id,
            app.settings.chunk_size,
            stop.clone(),
        );
        let result = runbook.run_tenant(&work).await;
        heartbeat.abort();

        let outcome = match result {
            Ok(result) => {
                let now = app.clock.now();
                let mut tx = app.db.begin().await?;
                if q::finish(&mut tx, job.id, owner, "done", None, now.timestamp_millis()).await? {
                    OperationRunService::record_tenant_result(&mut tx, run_id, tenant_id, &result, now).await?;
                    tx.commit().await?;
                    JobOutcome::Done
                } else {
                    // The lease was lost: another worker owns the job now.
                    tx.rollback().await?;
                    JobOutcome::Stopped
                }
            }
            Err(JobError::Stopped) => {
                if app.runs().get(run_id).await?.status == RunStatus::Completed {
                    self.finish(job, owner, "cancelled", None).await?;
                }
                JobOutcome::Stopped
            }
            Err(JobError::Failed(error)) => {
                tracing::warn!(job = job.id, run = run_id, tenant = tenant_id, attempt = job.attempts, %error, "tenant job failed");
                if job.attempts < job.max_attempts {
                    let now = app.clock.now_ms();
                    let delay = backoff_ms(&app.settings, job.attempts);
                    q::requeue(&app.db, job.id, owner, now + delay, Some(error.clone()), false, now).await?;
                    JobOutcome::Retrying(error)
                } else {
                    self.give_up(job, owner, run_id, tenant_id, REASON_ATTEMPTS_EXHAUSTED, error).await?
                }
            }
        };
        q::unlock_tenant(&app.db, tenant_id, owner).await?;
        Ok(outcome)
    }

    async fn finish(&self, job: &ClaimedJob, owner: &str, status: &str, error: Option<String>) -> Result<JobOutcome> {
        let mut tx = self.app.db.begin().await?;
        q::finish(&mut tx, job.id, owner, status, error.clone(), self.app.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(match error {
            Some(e) => JobOutcome::Dead(e),
            None => JobOutcome::Done,
        })
    }

    /// Records the job dead and its tenant failed on the run, together.
    async fn give_up(
        &self,
        job: &ClaimedJob,
        owner: &str,
        run_id: i64,
        tenant_id: i64,
        reason_code: &str,
        error: String,
    ) -> Result<JobOutcome> {
        let now = self.app.clock.now();
        let result = TenantResult {
            items_in_target_state: 0,
            items_failed: 0,
            failures: vec![ItemFailure { reason_code: reason_code.into(), message: error.clone() }],
        };
        let mut tx = self.app.db.begin().await?;
        if q::finish(&mut tx, job.id, owner, "dead", Some(error.clone()), now.timestamp_millis()).await? {
            OperationRunService::record_tenant_result(&mut tx, run_id, tenant_id, &result, now).await?;
        }
        tx.commit().await?;
        Ok(JobOutcome::Dead(error))
    }

    /// Runs `concurrency` job loops until `shutdown` turns true; a job under
    /// way is finished first.
    pub async fn run(self, concurrency: usize, shutdown: watch::Receiver<bool>) {
        let mut loops = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let worker = self.clone();
            let mut shutdown = shutdown.clone();
            loops.spawn(async move {
                let idle = Duration::from_millis(worker.app.settings.poll_interval_ms);
                while !*shutdown.borrow() {
                    let pause = match worker.run_once().await {
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
            });
        }
        while loops.join_next().await.is_some() {}
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
        match q::renew(&app.db, job_id, &owner, now + lease, now).await {
            Ok(true) => {
                if let Err(e) = q::renew_tenant_lock(&app.db, tenant_id, &owner, now + lease).await {
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
    settings.backoff_base_ms.saturating_mul(1i64 << exp).min(settings.backoff_max_ms)
}
