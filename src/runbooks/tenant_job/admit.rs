//! A claim's tenant jobs pass their admission in the claim's transaction:
//! the run must be active and the runbook known, the tenant present and
//! free (its lock taken for the claim's owner, one statement for the
//! claim), and the run's gate open (concurrency cap, pause, spent budget).
//! Tenants of runs without a gate start in one statement per run; a run
//! still queued is marked running. A job that does not start ends or is
//! snoozed, and its tenant's lock is let go.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{
    Admitted, REASON_RUN_MISSING, REASON_TENANT_MISSING, REASON_UNKNOWN_RUNBOOK, TenantJobHandler,
};
use crate::error::Result;
use crate::queue::{Admit, Job, Outcome, Reason};
use crate::runs::{Admission, GateDecision, OperationRunService, TenantJobArgs, TenantResult};
use crate::storage::runs::jobs as run_jobs;
use crate::storage::{Tx, tenant_locks};

/// How long a paused run's tenant job waits; resuming wakes it sooner.
const PAUSED_RETRY_MS: i64 = 10 * 60 * 1000;

type Decision = Admit<Admitted, TenantResult>;

pub(super) async fn admit(
    h: &TenantJobHandler,
    tx: &mut Tx,
    jobs: &[Job<TenantJobArgs>],
) -> Result<Vec<Decision>> {
    let mut decisions: Vec<Option<Decision>> = jobs.iter().map(|_| None).collect();
    let Some(first) = jobs.first() else {
        return Ok(Vec::new());
    };
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let subjects: HashMap<i64, run_jobs::TenantJobSubject> = run_jobs::subjects(tx, &ids)
        .await?
        .into_iter()
        .map(|s| (s.job_id, s))
        .collect();

    // Who may try for the tenant's lock: an active run, a known runbook, a
    // present tenant, and the first job of its tenant in this claim (a second
    // waits, as it would for any other holder of the lock).
    let mut candidates: Vec<(usize, Admitted, bool)> = Vec::new();
    let mut tenants_seen = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        let TenantJobArgs { run_id, tenant_id } = job.args;
        let subject = subjects.get(&job.id);
        let (Some(run_type), Some(status)) = (
            subject.and_then(|s| s.run_type.as_deref()),
            subject.and_then(|s| s.run_status.as_deref()),
        ) else {
            let why = Reason::new(REASON_RUN_MISSING, format!("run {run_id} does not exist"));
            decisions[i] = Some(Admit::End(Outcome::Discard(why)));
            continue;
        };
        if status == "completed" {
            decisions[i] = Some(Admit::End(Outcome::Cancel("run.completed".into())));
            continue;
        }
        let Some(runbook) = h.registry.get(run_type) else {
            let message = format!("runbook {run_type:?} is not registered");
            let why = Reason::new(REASON_UNKNOWN_RUNBOOK, message);
            decisions[i] = Some(Admit::End(Outcome::Discard(why)));
            continue;
        };
        let Some(workspace_id) = subject.and_then(|s| s.workspace_id) else {
            let message = format!("tenant {tenant_id} does not exist");
            let why = Reason::new(REASON_TENANT_MISSING, message);
            decisions[i] = Some(Admit::End(Outcome::Discard(why)));
            continue;
        };
        if !tenants_seen.insert(tenant_id) {
            decisions[i] = Some(Admit::End(job.snooze(h.locked_retry_ms, "tenant.locked")));
            continue;
        }
        let admitted = Admitted {
            runbook: Some(runbook),
            workspace_id,
        };
        candidates.push((i, admitted, status == "queued"));
    }

    let owner = first.owner();
    let now = first.clock().now_ms();
    let tenants: Vec<i64> = candidates
        .iter()
        .map(|(i, ..)| jobs[*i].args.tenant_id)
        .collect();
    let locked: HashSet<i64> = if tenants.is_empty() {
        HashSet::new()
    } else {
        tenant_locks::lock(tx, &tenants, owner, now, now + first.lease_ms())
            .await?
            .into_iter()
            .collect()
    };

    // Tenants of runs without a cap, pause or spent budget start in one
    // statement per run; the rest pass the gate one at a time.
    let mut per_run: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (i, ..) in &candidates {
        let TenantJobArgs { run_id, tenant_id } = jobs[*i].args;
        if locked.contains(&tenant_id) {
            per_run.entry(run_id).or_default().push(tenant_id);
        }
    }
    let mut started = HashSet::new();
    for (run_id, tenants) in per_run {
        let now = first.clock().now();
        for tenant_id in h
            .runs
            .admit_tenants_ungated(tx, run_id, &tenants, now)
            .await?
        {
            started.insert((run_id, tenant_id));
        }
    }
    let mut queued_runs = BTreeSet::new();
    let mut let_go = Vec::new();
    for (i, admitted, queued_run) in candidates {
        let job = &jobs[i];
        let TenantJobArgs { run_id, tenant_id } = job.args;
        let decision = if !locked.contains(&tenant_id) {
            Admit::End(job.snooze(h.locked_retry_ms, "tenant.locked"))
        } else if started.contains(&(run_id, tenant_id)) {
            Admit::Start(admitted)
        } else {
            let now = first.clock().now();
            match h.runs.admit_tenant(tx, run_id, tenant_id, now).await? {
                Admission::Start => Admit::Start(admitted),
                Admission::Wait(GateDecision::Paused) => {
                    let_go.push(tenant_id);
                    Admit::End(job.snooze(PAUSED_RETRY_MS, "run.paused"))
                }
                Admission::Wait(_) => {
                    let_go.push(tenant_id);
                    Admit::End(job.snooze(h.locked_retry_ms, "run.at_capacity"))
                }
                Admission::Done => {
                    let_go.push(tenant_id);
                    Admit::End(Outcome::Cancel("tenant.done".into()))
                }
            }
        };
        if queued_run && matches!(decision, Admit::Start(_)) {
            queued_runs.insert(run_id);
        }
        decisions[i] = Some(decision);
    }
    if !let_go.is_empty() {
        tenant_locks::unlock(tx, &let_go, owner).await?;
    }
    for run_id in queued_runs {
        OperationRunService::mark_running(tx, run_id, first.clock().now()).await?;
    }
    Ok(decisions
        .into_iter()
        .map(|d| d.unwrap_or(Admit::End(Outcome::Cancel("tenant.done".into()))))
        .collect())
}
