//! Tenant jobs claimed together (quick ones, a fan-out over tenants with
//! little to do): the batch's tenant locks are taken in one statement with
//! the claim, one heartbeat keeps every lease and lock alive, each tenant's
//! work runs in turn, and the tenants that succeeded are ended and counted in
//! one transaction (a few statements for the whole batch). Every guarantee
//! of a job run alone holds: one lock per tenant, each result recorded once
//! under the job's lease. Anything out of the ordinary (a failure, a
//! cancelled run, a missing tenant) takes the path of a job run alone.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{Tenant, TenantJobHandler};
use crate::error::Result;
use crate::queue::{Job, JobHandler, JobOutcome, LeaseHook};
use crate::runbooks::{JobLease, TenantJob};
use crate::runs::OperationRunService;
use crate::storage::queue as q;
use crate::storage::{Db, Tx};

/// Renews every tenant lock of the batch's owner with the leases.
struct TenantLocksOf;

#[async_trait]
impl LeaseHook for TenantLocksOf {
    async fn renewed(&self, db: &Db, owner: &str, until_ms: i64) {
        if let Err(e) = q::renew_tenant_locks_of(&mut db.clone(), owner, until_ms).await {
            tracing::warn!(%owner, error = %e, "renewing the tenant locks failed");
        }
    }
}

/// A job with nothing out of the ordinary: its run is queued or running,
/// its runbook known, its tenant present, attempts left.
struct Plain {
    index: usize,
    tenant: Tenant,
    workspace_id: i64,
    queued_run: bool,
}

fn plain(h: &TenantJobHandler, index: usize, job: &Job) -> Option<Plain> {
    let row = &job.row;
    let status = row.run_status.as_deref()?;
    let ordinary = matches!(status, "queued" | "running")
        && !job.attempts_exhausted()
        && h.registry.get(row.run_type.as_deref()?).is_some();
    ordinary.then_some(Plain {
        index,
        tenant: Tenant {
            run_id: row.run_id?,
            tenant_id: row.tenant_id?,
        },
        workspace_id: row.tenant_workspace_id?,
        queued_run: status == "queued",
    })
}

pub(super) async fn run(
    h: &TenantJobHandler,
    jobs: Vec<Job>,
    mut tx: Tx,
) -> Result<Vec<JobOutcome>> {
    let mut outcomes: Vec<Option<JobOutcome>> = vec![None; jobs.len()];
    let Some(first) = jobs.first() else {
        tx.rollback().await?;
        return Ok(Vec::new());
    };
    let (owner, db, clock) = (
        first.owner.clone(),
        first.db().clone(),
        first.clock().clone(),
    );
    let mut alone = Vec::new();
    let mut candidates = Vec::new();
    let mut tenants_seen = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        match plain(h, i, job) {
            // A second job of a tenant in the same batch waits, as it would
            // for any other holder of the tenant's lock.
            Some(p) if !tenants_seen.insert(p.tenant.tenant_id) => {
                job.later(&mut tx, h.locked_retry_ms).await?;
                outcomes[i] = Some(JobOutcome::TenantBusy);
            }
            Some(p) => candidates.push(p),
            None => alone.push(i),
        }
    }

    // The claim, the tenants' locks and the runs' start: one transaction.
    let now = clock.now_ms();
    let tenants: Vec<i64> = candidates.iter().map(|p| p.tenant.tenant_id).collect();
    let locked: HashSet<i64> = if tenants.is_empty() {
        HashSet::new()
    } else {
        q::lock_tenants(&mut tx, &tenants, &owner, now, now + first.lease_ms())
            .await?
            .into_iter()
            .collect()
    };
    // Tenants of runs without a cap, pause or spent budget start in one
    // statement per run; the rest pass the gate one at a time.
    let mut per_run: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for p in candidates
        .iter()
        .filter(|p| locked.contains(&p.tenant.tenant_id))
    {
        per_run
            .entry(p.tenant.run_id)
            .or_default()
            .push(p.tenant.tenant_id);
    }
    let mut started = HashSet::new();
    for (run_id, tenants) in per_run {
        let now = clock.now();
        for tenant_id in h
            .runs
            .admit_tenants_ungated(&mut tx, run_id, &tenants, now)
            .await?
        {
            started.insert((run_id, tenant_id));
        }
    }
    let mut go = Vec::with_capacity(candidates.len());
    for p in candidates {
        let job = &jobs[p.index];
        if !locked.contains(&p.tenant.tenant_id) {
            job.later(&mut tx, h.locked_retry_ms).await?;
            outcomes[p.index] = Some(JobOutcome::TenantBusy);
        } else if started.contains(&(p.tenant.run_id, p.tenant.tenant_id)) {
            go.push(p);
        } else if let Some(outcome) = h.gate(job, &mut tx, p.tenant).await? {
            // The run's gate (cap, pause, spent budget) held it back.
            outcomes[p.index] = Some(outcome);
        } else {
            go.push(p);
        }
    }
    let queued_runs: BTreeSet<i64> = go
        .iter()
        .filter(|p| p.queued_run)
        .map(|p| p.tenant.run_id)
        .collect();
    for run_id in queued_runs {
        OperationRunService::mark_running(&mut tx, run_id, clock.now()).await?;
    }
    tx.commit().await?;

    let held = Arc::new(AtomicUsize::new(go.len()));
    let heartbeat = first.batch_heartbeat(held.clone(), Some(Arc::new(TenantLocksOf)));
    for i in alone {
        let tx = db.begin_relaxed().await?;
        outcomes[i] = Some(h.run(&jobs[i], tx).await?);
    }
    let mut succeeded = Vec::with_capacity(go.len());
    // Tenants with nothing to do, found for the whole batch per runbook, are
    // counted without running each one.
    let mut done: HashMap<i64, i64> = HashMap::new();
    let mut per_type: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for p in &go {
        if let Some(t) = jobs[p.index].row.run_type.as_deref() {
            per_type.entry(t).or_default().push(p.tenant.tenant_id);
        }
    }
    // One tenant alone gains nothing: its own work starts with that count.
    for (run_type, tenants) in per_type.into_iter().filter(|(_, t)| t.len() > 1) {
        if let Some(runbook) = h.registry.get(run_type) {
            done.extend(runbook.already_done(&db, &tenants).await?);
        }
    }
    for p in go {
        if let Some(in_target) = done.get(&p.tenant.tenant_id) {
            succeeded.push((p.index, p.tenant, *in_target));
            continue;
        }
        let job = &jobs[p.index];
        let Some(runbook) = job.row.run_type.as_deref().and_then(|t| h.registry.get(t)) else {
            continue;
        };
        let work = TenantJob::new(
            db.clone(),
            p.tenant.run_id,
            p.tenant.tenant_id,
            p.workspace_id,
            h.chunk_size,
            JobLease {
                job_id: job.id(),
                owner: job.owner.clone(),
                stop: heartbeat.stop_flag(),
            },
        );
        match runbook.run_tenant(&work).await {
            Ok(result) if result.succeeded() => {
                succeeded.push((p.index, p.tenant, result.items_in_target_state));
            }
            other => {
                // No longer renewed with the batch once it ends.
                held.fetch_sub(1, Ordering::SeqCst);
                outcomes[p.index] = Some(h.end_one(job, p.tenant, other).await?);
            }
        }
    }
    drop(heartbeat);

    if !succeeded.is_empty() {
        // The jobs' end, the locks' release and the tenants' results: one
        // transaction; the runs' shared rows are touched last.
        let mut tx = db.begin_relaxed().await?;
        let ids: Vec<i64> = succeeded.iter().map(|s| jobs[s.0].id()).collect();
        let owned: HashSet<i64> = q::finish_many(&mut tx, &ids, &owner, clock.now_ms())
            .await?
            .into_iter()
            .collect();
        // After the jobs' rows: jobs come before tenant locks in the one order.
        let tenants: Vec<i64> = succeeded.iter().map(|s| s.1.tenant_id).collect();
        q::unlock_tenants(&mut tx, &tenants, &owner).await?;
        let mut per_run: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
        for (i, tenant, in_target) in &succeeded {
            let done = owned.contains(&jobs[*i].id());
            if done {
                per_run
                    .entry(tenant.run_id)
                    .or_default()
                    .push((tenant.tenant_id, *in_target));
            }
            // Not owned: the lease was lost; another worker owns the job now.
            outcomes[*i] = Some(if done {
                JobOutcome::Done
            } else {
                JobOutcome::Stopped
            });
        }
        let now = clock.now();
        for (run_id, results) in per_run {
            h.runs
                .record_tenants_succeeded(&mut tx, run_id, &results, now)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(JobOutcome::Stopped))
        .collect())
}
