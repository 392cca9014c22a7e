//! A run's life: started (ensured) with its tenant rows and jobs in one
//! transaction, its tenants' results counted once, and completed exactly
//! once, with the completion handed to the subscribers in its transaction.

use chrono::{DateTime, Utc};

use super::{OperationRunService, TENANT_JOB};
use crate::domain::run::{Ensured, NewRun, TenantResult};
use crate::domain::{Actor, AuditEntry};
use crate::error::{Error, Result};
use crate::storage::runs::tenants::{self as run_tenants, Counted};
use crate::storage::{self, Tx};

impl OperationRunService {
    /// Starts the run a runbook planned for `actor` (who may start it: the
    /// runbook checked), or answers the active run of the same identity;
    /// the audit entry `run.start` is written with it.
    pub async fn start(&self, actor: &Actor, new: NewRun) -> Result<Ensured> {
        let scope = serde_json::to_value(&new.context.scope).unwrap_or_default();
        self.start_as(actor, new, "run.start", scope).await
    }

    /// [`OperationRunService::start`] audited as `action` (a retry's), its
    /// scope in the audit entry as `scope` says it (a retry names tenants
    /// by external id).
    pub(super) async fn start_as(
        &self,
        actor: &Actor,
        new: NewRun,
        action: &str,
        scope: serde_json::Value,
    ) -> Result<Ensured> {
        let ensured = self.ensure(new, start_entry(actor, action, scope)).await?;
        if ensured.created {
            metrics::counter!("tenantatlas_runs_started_total", "runbook" => ensured.run.run_type.clone()).increment(1);
        }
        Ok(ensured)
    }

    /// Ensure (workspace or tenant) run with identity: while a queued or
    /// running run with the same identity exists, returns it; otherwise
    /// creates the run, a row per tenant and a queued job per tenant, in one
    /// transaction. The unique index over active identities decides races.
    /// `audit` is the start's audit entry for the run as ensured, written in
    /// the transaction that creates the run (or alone for an active run
    /// answered instead, which changes nothing).
    pub async fn ensure(
        &self,
        new: NewRun,
        audit: impl Fn(&Ensured) -> AuditEntry + Send + Sync,
    ) -> Result<Ensured> {
        let identity = new.identity();
        // A lost race against a run that completes at that instant is retried.
        for _ in 0..5 {
            let now = self.clock.now();
            let mut tx = self.db.begin().await?;
            match storage::runs::insert_if_no_active(&mut tx, &new, &identity, now).await? {
                Some(run_id) => {
                    let total = run_tenants::insert_run_tenants(&mut tx, run_id, &new).await?;
                    storage::runs::jobs::enqueue_per_run_tenant(
                        &mut tx,
                        TENANT_JOB,
                        run_id,
                        self.max_attempts,
                        now.timestamp_millis(),
                    )
                    .await?;
                    if total == 0 {
                        storage::runs::mark_running(&mut tx, run_id, now).await?;
                        self.complete_if_done(&mut tx, run_id, now).await?;
                    }
                    let created = Ensured {
                        run: storage::runs::get_in_tx(&mut tx, run_id).await?,
                        created: true,
                    };
                    storage::directory::audit(&mut tx, &audit(&created), now).await?;
                    tx.commit().await?;
                    run_tenants::refresh_statistics(&self.db, total).await;
                    let run = self.get(run_id).await?;
                    return Ok(Ensured { run, created: true });
                }
                None => {
                    tx.rollback().await?;
                    if let Some(run_id) =
                        storage::runs::active_by_identity(&self.db, &identity).await?
                    {
                        let run = self.get(run_id).await?;
                        let active = Ensured {
                            run,
                            created: false,
                        };
                        storage::directory::audit_now(&self.db, &audit(&active), now).await?;
                        return Ok(active);
                    }
                }
            }
        }
        Err(Error::Conflict(
            "the run could not be started; try again".into(),
        ))
    }

    /// queued → running, in the caller's transaction (a tenant job's claim);
    /// a no-op for a run already running or completed.
    pub async fn mark_running(tx: &mut Tx, run_id: i64, now: DateTime<Utc>) -> Result<()> {
        Ok(storage::runs::mark_running(tx, run_id, now).await?)
    }

    /// Whether the run is completed (cancelled, say), read in the caller's
    /// transaction.
    pub async fn is_completed(tx: &mut Tx, run_id: i64) -> Result<bool> {
        Ok(storage::runs::is_completed(tx, run_id).await?)
    }

    /// Counts a committed chunk of item updates inside the chunk's own
    /// transaction. Returns false (and the caller rolls back) once the run is
    /// completed, so a cancelled run never changes again.
    pub async fn record_chunk(
        tx: &mut Tx,
        run_id: i64,
        tenant_id: i64,
        items_updated: i64,
    ) -> Result<bool> {
        Ok(run_tenants::record_chunk(tx, run_id, tenant_id, items_updated).await?)
    }

    /// Records a tenant's result once per (run, tenant), adds it to the run's
    /// counts, and completes the run when every tenant is processed.
    /// Returns whether this call counted (false for a repeated result).
    pub async fn record_tenant_result(
        &self,
        tx: &mut Tx,
        run_id: i64,
        tenant_id: i64,
        result: &TenantResult,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        Ok(
            match run_tenants::finish_tenant(tx, run_id, tenant_id, result, now).await? {
                Counted::No => false,
                Counted::Yes(after) => {
                    if let Some(after) = after {
                        Self::after_count(tx, run_id, &after, now).await?;
                    }
                    true
                }
                Counted::AndCompleted => {
                    self.on_completed(tx, run_id, now).await?;
                    true
                }
            },
        )
    }

    /// Locks the listed tenant rows of a run in tenant order, before a
    /// transaction records several of their results in more than one
    /// statement (the one lock order: a run's tenant rows, then its row).
    pub async fn lock_tenants_in_order(tx: &mut Tx, run_id: i64, tenant_ids: &[i64]) -> Result<()> {
        Ok(run_tenants::lock_in_order(tx, run_id, tenant_ids).await?)
    }

    /// [`OperationRunService::record_tenant_result`] for several tenants of
    /// one run that succeeded with nothing failed, `(tenant_id,
    /// items_in_target_state)` each, set-based.
    pub async fn record_tenants_succeeded(
        &self,
        tx: &mut Tx,
        run_id: i64,
        results: &[(i64, i64)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        match run_tenants::finish_tenants_succeeded(tx, run_id, results, now).await? {
            Counted::AndCompleted => self.on_completed(tx, run_id, now).await?,
            Counted::Yes(Some(after)) => Self::after_count(tx, run_id, &after, now).await?,
            _ => {}
        }
        Ok(())
    }

    /// maybe complete bulk run: when processed ≥ total the run completes,
    /// exactly once, with the outcome its tenants earned; its initiator's
    /// notification and its alert event are written in the same transaction.
    pub async fn complete_if_done(
        &self,
        tx: &mut Tx,
        run_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !storage::runs::complete_if_done(tx, run_id, now).await? {
            return Ok(false);
        }
        self.on_completed(tx, run_id, now).await?;
        Ok(true)
    }

    pub(super) async fn on_completed(
        &self,
        tx: &mut Tx,
        run_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let run = storage::runs::get_in_tx(tx, run_id).await?;
        let entry = AuditEntry {
            detail: serde_json::json!({"outcome": run.outcome, "summary_counts": run.summary_counts}),
            ..AuditEntry::system("run.completed", format!("run:{run_id}"))
        };
        storage::directory::audit(tx, &entry, now).await?;
        for subscriber in self.subscribers.iter() {
            subscriber.run_completed(tx, &run, now).await?;
        }
        Ok(())
    }
}

/// The audit entry of a run started (or of the active run answered
/// instead) by `actor`; written with the run.
fn start_entry<'a>(
    actor: &'a Actor,
    action: &'a str,
    scope: serde_json::Value,
) -> impl Fn(&Ensured) -> AuditEntry + Send + Sync + 'a {
    move |ensured| {
        actor.audit(
            action,
            Some(format!("run:{}", ensured.run.id)),
            serde_json::json!({
                "runbook": ensured.run.run_type,
                "scope": scope,
                "reason": ensured.run.context.reason,
                "created": ensured.created,
                "limits": ensured.run.limits,
            }),
        )
    }
}
