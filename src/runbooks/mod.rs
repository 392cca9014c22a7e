//! Runbooks: registered maintenance procedures. Each is one module with its
//! preflight counter and its per-tenant work; adding one is adding a module
//! and a line in [`Registry::standard`]. [`RunbookService`] is what every
//! door calls to find, count and start a runbook; the registry is the run
//! service's [`RunPlanner`] (a retry's plan); [`TenantJobHandler`] runs a
//! run's per-tenant jobs.

pub mod findings_lifecycle;
pub mod service;
pub mod tenant_job;
pub mod workspace_ids;

pub use service::drift::{Drift, Reviewed};
pub use service::reads::PendingWork;
pub use service::{DeployAction, Preflight, RunbookInfo, RunbookService, ScopeRequest};
pub use tenant_job::TenantJobHandler;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;

use crate::domain::{Capability, RunbookKey};
use crate::runs::{NewRun, OperationRunService, RunPlanner, TenantResult};
use crate::storage::{Db, Tx};

/// Items pending in one tenant, as preflight shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TenantPending {
    #[serde(skip)]
    pub tenant_id: i64,
    pub tenant_external_id: String,
    pub items_pending: i64,
}

/// Why a tenant's work stopped short.
#[derive(Debug)]
pub enum JobError {
    /// The run was cancelled or the lease was lost: stop, record nothing.
    Stopped,
    /// Infrastructure failed; the job is retried with backoff.
    Failed(String),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Failed(format!("database error: {e}"))
    }
}

impl From<crate::error::Error> for JobError {
    fn from(e: crate::error::Error) -> Self {
        JobError::Failed(e.detail())
    }
}

/// The lease a tenant's work runs under: the job's row and owner, and the
/// flag its heartbeat raises when the lease is lost. Work done inside the
/// database checks the row itself (see `findings_lifecycle`).
pub struct JobLease {
    pub job_id: i64,
    pub owner: String,
    pub stop: Arc<AtomicBool>,
}

/// What a runbook's tenant work gets to do its job.
pub struct TenantJob {
    pub db: Db,
    pub run_id: i64,
    pub tenant_id: i64,
    pub workspace_id: i64,
    pub chunk_size: i64,
    pub lease: JobLease,
}

impl TenantJob {
    pub fn new(
        db: Db,
        run_id: i64,
        tenant_id: i64,
        workspace_id: i64,
        chunk_size: i64,
        lease: JobLease,
    ) -> Self {
        TenantJob {
            db,
            run_id,
            tenant_id,
            workspace_id,
            chunk_size,
            lease,
        }
    }

    pub fn should_stop(&self) -> bool {
        self.lease.stop.load(Ordering::Relaxed)
    }

    /// Counts the chunk's updated items on the run and commits the chunk, in
    /// its one transaction, if the job still holds its lease; a lease passed
    /// on or a run completed meanwhile rolls the chunk back.
    pub async fn commit_chunk(&self, mut tx: Tx, items_updated: i64) -> Result<(), JobError> {
        let held = !self.should_stop()
            && crate::storage::queue::holds(&mut tx, self.lease.job_id, &self.lease.owner).await?
            && OperationRunService::record_chunk(
                &mut tx,
                self.run_id,
                self.tenant_id,
                items_updated,
            )
            .await?;
        if !held {
            tx.rollback().await?;
            return Err(JobError::Stopped);
        }
        tx.commit().await?;
        Ok(())
    }
}

/// What a runbook is, as every door names it: declared once per runbook.
pub struct About {
    pub key: RunbookKey,
    pub title: &'static str,
    pub description: &'static str,
    /// What the items are called ("findings").
    pub item_noun: &'static str,
    /// Whether `deploy:hook` runs it.
    pub runs_on_deploy: bool,
    /// One SQL expression over a tenant `t` (its id `t.id`): how many of
    /// its items need work (see [`pending_per_tenant`]).
    pub items_pending: &'static str,
}

#[async_trait]
pub trait Runbook: Send + Sync {
    fn about(&self) -> &'static About;
    fn key(&self) -> RunbookKey {
        self.about().key
    }
    fn title(&self) -> &'static str {
        self.about().title
    }
    fn description(&self) -> &'static str {
        self.about().description
    }
    /// What the items are called ("findings").
    fn item_noun(&self) -> &'static str {
        self.about().item_noun
    }
    /// The capability needed to start it.
    fn capability(&self) -> Capability {
        Capability::RUNBOOKS_RUN
    }
    /// Whether `deploy:hook` runs it.
    fn runs_on_deploy(&self) -> bool {
        self.about().runs_on_deploy
    }
    /// Items needing work per tenant of the workspace (or just `tenant_id`),
    /// counted by [`About::items_pending`]. Writes nothing.
    async fn pending(
        &self,
        db: &Db,
        workspace_id: i64,
        tenant_id: Option<i64>,
    ) -> Result<Vec<TenantPending>, sqlx::Error> {
        pending_per_tenant(db, workspace_id, tenant_id, self.about().items_pending).await
    }
    /// Does one tenant's work in bounded chunks.
    async fn run_tenant(&self, job: &TenantJob) -> Result<TenantResult, JobError>;
    /// Of these locked tenants, those with nothing to do, with how many items
    /// each has in the target state, in one statement: a batch of a fan-out
    /// counts them succeeded without calling `run_tenant` for each. The
    /// default asks every tenant.
    async fn already_done(
        &self,
        _db: &Db,
        _tenant_ids: &[i64],
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        Ok(Vec::new())
    }
}

pub struct Registry {
    runbooks: Vec<Arc<dyn Runbook>>,
}

impl Registry {
    pub fn standard() -> Registry {
        Registry {
            runbooks: vec![
                Arc::new(findings_lifecycle::FindingsLifecycleBackfill),
                Arc::new(workspace_ids::WorkspaceIdsBackfill),
            ],
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<dyn Runbook>> {
        self.runbooks.iter().find(|r| r.key().0 == key).cloned()
    }

    /// The runbook of `key` (trimmed); unknown is the caller's error, named
    /// alike by every door (HTTP 404, CLI exit 2: a name typed wrong).
    /// A key that is no text a key can be (control characters, too long)
    /// is bad input rather than unknown.
    pub fn require(&self, key: &str) -> crate::error::Result<Arc<dyn Runbook>> {
        let key = RunbookKey::check(key).map_err(crate::error::Error::BadInput)?;
        self.get(key).ok_or_else(|| {
            crate::error::Error::Unknown(format!(
                "unknown runbook {key:?} (known: {})",
                self.keys().join(", ")
            ))
        })
    }

    pub fn all(&self) -> &[Arc<dyn Runbook>] {
        &self.runbooks
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.runbooks.iter().map(|r| r.key().0).collect()
    }
}

/// The run service asks the registry what a run of a runbook needs.
#[async_trait]
impl RunPlanner for Registry {
    fn check(&self, runbook: &str) -> crate::error::Result<()> {
        self.require(runbook).map(drop)
    }

    async fn expected(&self, db: &Db, run: &NewRun) -> crate::error::Result<Vec<(i64, i64)>> {
        let runbook = self.require(&run.runbook)?;
        planned(runbook.as_ref(), db, run.workspace_id, run.tenant_id()).await
    }
}

/// The preflight stored on a run at its start: the items `runbook` has
/// pending per tenant of the workspace (or of `tenant_id` alone).
pub(crate) async fn planned(
    runbook: &dyn Runbook,
    db: &Db,
    workspace_id: i64,
    tenant_id: Option<i64>,
) -> crate::error::Result<Vec<(i64, i64)>> {
    let pending = runbook.pending(db, workspace_id, tenant_id).await?;
    Ok(pending
        .iter()
        .map(|t| (t.tenant_id, t.items_pending))
        .collect())
}

/// Items pending per tenant of the workspace (or of `tenant_id` alone), in
/// external id order, counted for each tenant `t` by `items` (a runbook's
/// one SQL expression over `t.id`).
pub async fn pending_per_tenant(
    db: &Db,
    workspace_id: i64,
    tenant_id: Option<i64>,
    items: &str,
) -> Result<Vec<TenantPending>, sqlx::Error> {
    db.fetch_all(
        &format!(
            "SELECT t.id AS tenant_id, t.external_id AS tenant_external_id, {items} AS items_pending \
             FROM tenants t WHERE t.workspace_id = $1 AND ($2 IS NULL OR t.id = $2) ORDER BY t.external_id"
        ),
        crate::args![workspace_id, tenant_id],
    )
    .await
}
