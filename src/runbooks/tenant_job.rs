//! The handler of a run's per-tenant job: under the tenant's lock, the
//! runbook does the tenant's work, and the tenant's result is recorded on
//! the run exactly once.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{JobKind, JobStatus};
use crate::error::Result;
use crate::queue::{Failed, Job, JobHandler, JobOutcome, LeaseHook};
use crate::runbooks::{JobError, JobLease, Registry, TenantJob};
use crate::runs::{Admission, Gate, ItemFailure, OperationRunService, TENANT_JOB, TenantResult};
use crate::storage::queue as q;
use crate::storage::{Db, Tx};

#[path = "tenant_job_batch.rs"]
mod batch;

pub const REASON_ATTEMPTS_EXHAUSTED: &str = "job.attempts_exhausted";
pub const REASON_UNKNOWN_RUNBOOK: &str = "runbook.unknown";
pub const REASON_TENANT_MISSING: &str = "tenant.missing";

pub struct TenantJobHandler {
    pub runs: OperationRunService,
    pub registry: Arc<Registry>,
    /// Items per transaction.
    pub chunk_size: i64,
    /// How long a job whose tenant is locked waits before it is tried again
    /// (also a job held back by its run's concurrency cap).
    pub locked_retry_ms: i64,
}

/// How long a paused run's tenant job waits; resuming wakes it sooner.
const PAUSED_RETRY_MS: i64 = 10 * 60 * 1000;

/// Renews the tenant's lock with the job's lease.
struct TenantLock(i64);

#[async_trait]
impl LeaseHook for TenantLock {
    async fn renewed(&self, db: &Db, owner: &str, until_ms: i64) {
        if let Err(e) = q::renew_tenant_lock(&mut db.clone(), self.0, owner, until_ms).await {
            tracing::warn!(tenant = self.0, error = %e, "renewing the tenant lock failed");
        }
    }
}

#[async_trait]
impl JobHandler for TenantJobHandler {
    fn kind(&self) -> JobKind {
        TENANT_JOB
    }

    /// `tx` holds the claim; the tenant's lock and the run's start join it,
    /// and it is committed before the tenant's work starts.
    async fn run(&self, job: &Job, mut tx: Tx) -> Result<JobOutcome> {
        let row = &job.row;
        let (Some(run_id), Some(tenant_id)) = (row.run_id, row.tenant_id) else {
            let error = "tenant job without run or tenant".to_owned();
            return job.end(tx, JobStatus::Dead, Some(error)).await;
        };
        let (Some(run_type), Some(run_status)) = (&row.run_type, &row.run_status) else {
            let error = format!("run {run_id} does not exist");
            return job.end(tx, JobStatus::Dead, Some(error)).await;
        };
        let tenant = Tenant { run_id, tenant_id };
        if run_status == "completed" {
            return job.end(tx, JobStatus::Cancelled, None).await;
        }
        if job.attempts_exhausted() {
            let error = job.exhausted_error();
            return self
                .give_up(job, tx, tenant, REASON_ATTEMPTS_EXHAUSTED, error)
                .await;
        }
        let Some(runbook) = self.registry.get(run_type) else {
            let error = format!("runbook {run_type:?} is not registered");
            return self
                .give_up(job, tx, tenant, REASON_UNKNOWN_RUNBOOK, error)
                .await;
        };
        let Some(workspace_id) = row.tenant_workspace_id else {
            let error = format!("tenant {tenant_id} does not exist");
            return self
                .give_up(job, tx, tenant, REASON_TENANT_MISSING, error)
                .await;
        };
        let now = job.clock().now_ms();
        if !q::lock_tenant(&mut tx, tenant_id, &job.owner, now, now + job.lease_ms()).await? {
            job.later(&mut tx, self.locked_retry_ms).await?;
            tx.commit().await?;
            return Ok(JobOutcome::TenantBusy);
        }
        if let Some(outcome) = self.gate(job, &mut tx, tenant).await? {
            tx.commit().await?;
            return Ok(outcome);
        }
        if run_status == "queued" {
            OperationRunService::mark_running(&mut tx, run_id, job.clock().now()).await?;
        }
        tx.commit().await?;

        let heartbeat = job.heartbeat(Some(Arc::new(TenantLock(tenant_id))));
        let work = TenantJob::new(
            job.db().clone(),
            run_id,
            tenant_id,
            workspace_id,
            self.chunk_size,
            JobLease {
                job_id: job.id(),
                owner: job.owner.clone(),
                stop: heartbeat.stop_flag(),
            },
        );
        let result = runbook.run_tenant(&work).await;
        drop(heartbeat);

        self.end_one(job, tenant, result).await
    }

    fn batches(&self) -> bool {
        true
    }

    async fn run_batch(&self, jobs: Vec<Job>, tx: Tx) -> Result<Vec<JobOutcome>> {
        batch::run(self, jobs, tx).await
    }
}

#[derive(Clone, Copy)]
struct Tenant {
    run_id: i64,
    tenant_id: i64,
}

impl TenantJobHandler {
    /// Ends a job after its tenant's work.
    async fn end_one(
        &self,
        job: &Job,
        tenant: Tenant,
        result: std::result::Result<TenantResult, JobError>,
    ) -> Result<JobOutcome> {
        // The job's end, the lock's release and the tenant's result are one
        // transaction, in the one lock order: the job's row, the tenant's
        // lock, then the tenant's row and the run's.
        let row = &job.row;
        let Tenant { run_id, tenant_id } = tenant;
        let mut tx = job.db().begin_relaxed().await?;
        let tenant_failed = match &result {
            Ok(r) => !r.succeeded(),
            Err(JobError::Failed(_)) => true,
            Err(JobError::Stopped) => false,
        };
        let (outcome, to_record) = match result {
            Ok(result) => {
                if job.finish(&mut tx, JobStatus::Done, None).await? {
                    (JobOutcome::Done, Some(result))
                } else {
                    // The lease was lost: another worker owns the job now.
                    (JobOutcome::Stopped, None)
                }
            }
            Err(JobError::Stopped) => {
                if OperationRunService::is_completed(&mut tx, run_id).await? {
                    job.finish(&mut tx, JobStatus::Cancelled, None).await?;
                }
                (JobOutcome::Stopped, None)
            }
            Err(JobError::Failed(error)) => {
                tracing::warn!(job = job.id(), run = run_id, tenant = tenant_id, attempt = row.attempts, %error, "tenant job failed");
                match job.fail(&mut tx, &error).await? {
                    Failed::Retrying => (JobOutcome::Retrying(error), None),
                    Failed::Dead { owned } => {
                        let failed =
                            owned.then(|| failed_result(REASON_ATTEMPTS_EXHAUSTED, &error));
                        (JobOutcome::Dead(error), failed)
                    }
                }
            }
        };
        q::unlock_tenant(&mut tx, tenant_id, &job.owner).await?;
        if let Some(result) = to_record {
            self.record(&mut tx, job, tenant, &result).await?;
        }
        tx.commit().await?;
        if tenant_failed && matches!(outcome, JobOutcome::Done | JobOutcome::Dead(_)) {
            // A failure may have spent the run's error budget: its queued
            // tenants end not started (a transaction of their own).
            self.runs.stop_if_exhausted(run_id).await?;
        }
        Ok(outcome)
    }

    /// The run's gate (cap, pause, spent budget), in the claim's transaction
    /// under the tenant's lock. None: the tenant starts. Otherwise the job
    /// was put back (its attempt given back) or ended, and the lock released.
    async fn gate(&self, job: &Job, tx: &mut Tx, t: Tenant) -> Result<Option<JobOutcome>> {
        let now = job.clock().now();
        let admission = self
            .runs
            .admit_tenant(tx, t.run_id, t.tenant_id, now)
            .await?;
        if admission == Admission::Start {
            return Ok(None);
        }
        q::unlock_tenant(tx, t.tenant_id, &job.owner).await?;
        Ok(Some(match admission {
            Admission::Wait(Gate::Paused) => {
                job.later(tx, PAUSED_RETRY_MS).await?;
                JobOutcome::TenantBusy
            }
            Admission::Wait(_) => {
                job.later(tx, self.locked_retry_ms).await?;
                JobOutcome::TenantBusy
            }
            _ => {
                job.finish(tx, JobStatus::Cancelled, None).await?;
                JobOutcome::Stopped
            }
        }))
    }

    async fn record(
        &self,
        tx: &mut Tx,
        job: &Job,
        t: Tenant,
        result: &TenantResult,
    ) -> Result<bool> {
        let now = job.clock().now();
        self.runs
            .record_tenant_result(tx, t.run_id, t.tenant_id, result, now)
            .await
    }

    /// Records the job dead and its tenant failed on the run, and commits.
    async fn give_up(
        &self,
        job: &Job,
        mut tx: Tx,
        t: Tenant,
        reason_code: &str,
        error: String,
    ) -> Result<JobOutcome> {
        if job
            .finish(&mut tx, JobStatus::Dead, Some(error.clone()))
            .await?
        {
            let failed = failed_result(reason_code, &error);
            self.record(&mut tx, job, t, &failed).await?;
        }
        tx.commit().await?;
        self.runs.stop_if_exhausted(t.run_id).await?;
        Ok(JobOutcome::Dead(error))
    }
}

fn failed_result(reason_code: &str, error: &str) -> TenantResult {
    TenantResult {
        items_in_target_state: 0,
        items_failed: 0,
        failures: vec![ItemFailure {
            reason_code: reason_code.into(),
            message: error.into(),
        }],
    }
}
