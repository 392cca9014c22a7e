//! The handler of a run's per-tenant job: under the tenant's lock, the
//! runbook does the tenant's work, and the tenant's result is recorded on
//! the run exactly once, in the transaction that completes (or discards)
//! the job. The queue's executor runs the job's life; this says what a
//! tenant job does at each step: admit (`admit.rs`: the tenant's lock and
//! its run's gate), work, and record.

mod admit;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::queue::{Admit, Job, JobHandler, LeaseHook, MAX_BATCH, Outcome, Reason, Recorded};
use crate::runbooks::{JobError, JobLease, Registry, Runbook, TenantJob};
use crate::runs::{ItemFailure, OperationRunService, TenantJobArgs, TenantResult};
use crate::storage::{Db, Tx, tenant_locks};

pub const REASON_UNKNOWN_RUNBOOK: &str = "runbook.unknown";
pub const REASON_TENANT_MISSING: &str = "tenant.missing";
pub const REASON_RUN_MISSING: &str = "run.missing";

pub struct TenantJobHandler {
    pub runs: OperationRunService,
    pub registry: Arc<Registry>,
    /// Items per transaction.
    pub chunk_size: i64,
    /// How long a job whose tenant is locked waits before it is tried again
    /// (also a job held back by its run's concurrency cap).
    pub locked_retry_ms: i64,
}

/// What admitting a tenant job learned: the runbook to run and the tenant's
/// workspace.
#[derive(Default)]
pub struct Admitted {
    runbook: Option<Arc<dyn Runbook>>,
    workspace_id: i64,
}

/// Renews every tenant lock of a claim's owner with its jobs' leases.
struct TenantLocksOf;

#[async_trait]
impl LeaseHook for TenantLocksOf {
    async fn renewed(&self, db: &Db, owner: &str, until_ms: i64) {
        if let Err(e) = tenant_locks::renew_of(&mut db.clone(), owner, until_ms).await {
            tracing::warn!(%owner, error = %e, "renewing the tenant locks failed");
        }
    }
}

#[async_trait]
impl JobHandler for TenantJobHandler {
    type Args = TenantJobArgs;
    type Admitted = Admitted;
    type Output = TenantResult;

    /// Quick tenants (a fan-out over tenants with little to do) are claimed
    /// together: their locks and starts take a few statements per claim.
    fn batch_limit(&self) -> usize {
        MAX_BATCH
    }

    fn lease_hook(&self) -> Option<Arc<dyn LeaseHook>> {
        Some(Arc::new(TenantLocksOf))
    }

    async fn admit(
        &self,
        tx: &mut Tx,
        jobs: &[Job<TenantJobArgs>],
    ) -> Result<Vec<Admit<Admitted, TenantResult>>> {
        admit::admit(self, tx, jobs).await
    }

    async fn work(&self, job: &Job<TenantJobArgs>, admitted: &Admitted) -> Outcome<TenantResult> {
        let Some(runbook) = &admitted.runbook else {
            return Outcome::Discard(Reason::new(REASON_UNKNOWN_RUNBOOK, "no runbook"));
        };
        let result = runbook.run_tenant(&self.tenant_work(job, admitted)).await;
        self.outcome(job, result).await
    }

    /// Tenants with nothing to do, found for the whole claim per runbook,
    /// are done without running each one.
    async fn work_many(
        &self,
        jobs: &[(&Job<TenantJobArgs>, &Admitted)],
    ) -> Vec<Outcome<TenantResult>> {
        let mut per_runbook: BTreeMap<String, (Arc<dyn Runbook>, Vec<i64>)> = BTreeMap::new();
        for (job, admitted) in jobs {
            if let Some(runbook) = &admitted.runbook {
                per_runbook
                    .entry(runbook.key().to_string())
                    .or_insert_with(|| (runbook.clone(), Vec::new()))
                    .1
                    .push(job.args.tenant_id);
            }
        }
        let mut done: HashMap<i64, i64> = HashMap::new();
        // One tenant alone gains nothing: its own work starts with that count.
        for (runbook, tenants) in per_runbook.into_values().filter(|(_, t)| t.len() > 1) {
            let Some((job, _)) = jobs.first() else { break };
            match runbook.already_done(job.db(), &tenants).await {
                Ok(found) => done.extend(found),
                Err(e) => tracing::warn!(error = %e, "finding tenants with nothing to do failed"),
            }
        }
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (job, admitted) in jobs {
            outcomes.push(match done.get(&job.args.tenant_id) {
                Some(in_target) => Outcome::Done(TenantResult {
                    items_in_target_state: *in_target,
                    items_failed: 0,
                    failures: Vec::new(),
                }),
                None => self.work(job, admitted).await,
            });
        }
        outcomes
    }

    async fn release(&self, tx: &mut Tx, jobs: &[&Job<TenantJobArgs>]) -> Result<()> {
        if let Some(first) = jobs.first() {
            let tenants: Vec<i64> = jobs.iter().map(|j| j.args.tenant_id).collect();
            tenant_locks::unlock(tx, &tenants, first.owner()).await?;
        }
        Ok(())
    }

    /// The tenants' results, once each, run by run in id order; succeeded
    /// tenants of one run are counted in one statement. A run with results
    /// of both kinds has its tenant rows locked first, in tenant order (the
    /// one lock order: a run's tenant rows, then its row).
    async fn completed(
        &self,
        tx: &mut Tx,
        done: &[(&Job<TenantJobArgs>, &TenantResult)],
    ) -> Result<()> {
        let Some((first, _)) = done.first() else {
            return Ok(());
        };
        let now = first.clock().now();
        let mut per_run: BTreeMap<i64, Vec<(i64, &TenantResult)>> = BTreeMap::new();
        for (job, result) in done {
            per_run
                .entry(job.args.run_id)
                .or_default()
                .push((job.args.tenant_id, result));
        }
        for (run_id, mut results) in per_run {
            results.sort_by_key(|(tenant_id, _)| *tenant_id);
            let (mut succeeded, mut other): (Vec<_>, Vec<_>) =
                results.into_iter().partition(|(_, r)| r.succeeded());
            // One succeeded tenant is recorded like any other.
            if succeeded.len() == 1 {
                other.append(&mut succeeded);
            }
            if other.len() + succeeded.len() > 1 && !other.is_empty() {
                let mut tenants: Vec<i64> =
                    other.iter().chain(&succeeded).map(|(t, _)| *t).collect();
                tenants.sort_unstable();
                OperationRunService::lock_tenants_in_order(tx, run_id, &tenants).await?;
            }
            for (tenant_id, result) in other {
                self.runs
                    .record_tenant_result(tx, run_id, tenant_id, result, now)
                    .await?;
            }
            if !succeeded.is_empty() {
                let counts: Vec<(i64, i64)> = succeeded
                    .iter()
                    .map(|(t, r)| (*t, r.items_in_target_state))
                    .collect();
                self.runs
                    .record_tenants_succeeded(tx, run_id, &counts, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// The tenant failed for good: recorded on its run with the reason.
    async fn discarded(&self, tx: &mut Tx, job: &Job<TenantJobArgs>, why: &Reason) -> Result<()> {
        if why.code == REASON_RUN_MISSING {
            return Ok(());
        }
        let failed = TenantResult {
            items_in_target_state: 0,
            items_failed: 0,
            failures: vec![ItemFailure {
                reason_code: why.code.clone(),
                message: why.message.clone(),
            }],
        };
        let TenantJobArgs { run_id, tenant_id } = job.args;
        let now = job.clock().now();
        self.runs
            .record_tenant_result(tx, run_id, tenant_id, &failed, now)
            .await?;
        Ok(())
    }

    /// A failed tenant may have spent its run's error budget: the run's
    /// waiting tenants then end not started (a transaction of its own, after
    /// the result's).
    async fn settled(
        &self,
        job: &Job<TenantJobArgs>,
        recorded: &Recorded,
        output: Option<&TenantResult>,
    ) -> Result<()> {
        let failed = match recorded {
            Recorded::Completed => output.is_some_and(|r| !r.succeeded()),
            Recorded::Discarded(_) => true,
            _ => false,
        };
        if failed {
            self.runs.stop_if_exhausted(job.args.run_id).await?;
        }
        Ok(())
    }
}

impl TenantJobHandler {
    fn tenant_work(&self, job: &Job<TenantJobArgs>, admitted: &Admitted) -> TenantJob {
        TenantJob::new(
            job.db().clone(),
            job.args.run_id,
            job.args.tenant_id,
            admitted.workspace_id,
            self.chunk_size,
            JobLease {
                job_id: job.id,
                owner: job.owner().to_owned(),
                stop: job.stop_flag(),
            },
        )
    }

    /// How a tenant's work went, as the queue records it.
    async fn outcome(
        &self,
        job: &Job<TenantJobArgs>,
        result: std::result::Result<TenantResult, JobError>,
    ) -> Outcome<TenantResult> {
        match result {
            Ok(result) => Outcome::Done(result),
            Err(JobError::Failed(error)) => Outcome::retry(error),
            // The run completed meanwhile (cancelled, say), or a lease of the
            // claim was lost: a job still held goes back to wait, without
            // spending an attempt, and its next claim sees its run.
            Err(JobError::Stopped) => match self.runs.find(job.args.run_id).await {
                Ok(Some(run)) if !run.is_active() => Outcome::Cancel("run.completed".into()),
                _ => job.snooze(0, "job.stopped"),
            },
        }
    }
}
