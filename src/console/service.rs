//! The console service: what the operator console shows beside runs (the
//! bell and its notifications, the audit log, the tenants to pick from) and
//! the process's own reads (readiness, metric gauges). Capabilities are
//! checked here, as the console's routes check them.

use crate::accounts::OperatorIdentity;
use crate::clock::SharedClock;
use crate::domain::Capability;
use crate::error::Result;
use crate::runs::OperationRunService;
use crate::storage::runs::reads as run_reads;
use crate::storage::{Db, directory, notifications as store, queue};

use super::items::{NotificationItem, Page, Paged, TenantChoice};

#[derive(Clone)]
pub struct ConsoleService {
    pub(super) db: Db,
    pub(super) clock: SharedClock,
    pub(super) runs: OperationRunService,
}

fn require(op: &OperatorIdentity, c: Capability) -> Result<()> {
    op.capabilities.require(c)
}

impl ConsoleService {
    pub fn new(db: Db, clock: SharedClock, runs: OperationRunService) -> ConsoleService {
        ConsoleService { db, clock, runs }
    }

    /// The bell: how many of this operator's notifications are unread.
    pub async fn unread_count(&self, op: &OperatorIdentity) -> Result<i64> {
        Ok(store::unread_count(&self.db, op.id).await?)
    }

    /// This operator's notifications, newest first.
    pub async fn notifications(
        &self,
        op: &OperatorIdentity,
        unread_only: bool,
        page: Page,
    ) -> Result<Paged<NotificationItem>> {
        let rows = store::notifications(
            &self.db,
            op.id,
            unread_only,
            page.probe_limit(),
            page.offset(),
        )
        .await?;
        Ok(page.cut(rows.iter().map(NotificationItem::of).collect()))
    }

    /// Marks one of this operator's notifications read. Another operator's
    /// notification never changes; marking twice is harmless.
    pub async fn mark_read(&self, op: &OperatorIdentity, id: i64) -> Result<()> {
        store::mark_read(&self.db, op.id, Some(id), self.clock.now()).await?;
        Ok(())
    }

    pub async fn mark_all_read(&self, op: &OperatorIdentity) -> Result<()> {
        store::mark_read(&self.db, op.id, None, self.clock.now()).await?;
        Ok(())
    }

    /// The tenants a run can be scoped to (v1: the default workspace's).
    pub async fn tenants(&self, op: &OperatorIdentity) -> Result<Vec<TenantChoice>> {
        require(op, Capability::RUNBOOKS_VIEW)?;
        let ws = directory::default_workspace(&self.db).await?;
        Ok(directory::tenants_of(&self.db, ws.id)
            .await?
            .into_iter()
            .map(|t| TenantChoice {
                external_id: t.external_id,
                name: t.name,
            })
            .collect())
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    /// Jobs waiting (available or retryable) or running, in the whole deployment.
    pub async fn queue_depth(&self) -> Result<i64> {
        Ok(queue::depth(&mut self.db.clone()).await?)
    }

    /// Completed runs by outcome, in the whole deployment.
    pub async fn completed_runs(&self) -> Result<Vec<(String, i64)>> {
        Ok(run_reads::completed_runs_by_outcome(&self.db).await?)
    }
}
