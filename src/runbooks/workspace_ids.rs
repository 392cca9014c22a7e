//! `workspaces.backfill-ids`: fills a missing `workspace_id` on findings and
//! operation runs from their tenant.

use async_trait::async_trait;

use crate::args;
use crate::domain::RunbookKey;
use crate::runbooks::{JobError, Runbook, TenantJob, TenantPending};
use crate::runs::TenantResult;
use crate::storage::Db;

pub const KEY: RunbookKey = RunbookKey("workspaces.backfill-ids");

pub struct WorkspaceIdsBackfill;

#[async_trait]
impl Runbook for WorkspaceIdsBackfill {
    fn key(&self) -> RunbookKey {
        KEY
    }
    fn title(&self) -> &'static str {
        "Backfill workspace IDs"
    }
    fn description(&self) -> &'static str {
        "Fills a missing workspace_id on findings and operation runs from their tenant."
    }
    fn item_noun(&self) -> &'static str {
        "records"
    }
    fn runs_on_deploy(&self) -> bool {
        true
    }

    async fn pending(&self, db: &Db, workspace_id: i64, tenant_id: Option<i64>) -> Result<Vec<TenantPending>, sqlx::Error> {
        db.fetch_all(
            "SELECT t.id AS tenant_id, t.external_id AS tenant_external_id, \
                 (SELECT count(*) FROM findings f WHERE f.tenant_id = t.id AND f.workspace_id IS NULL) \
                 + (SELECT count(*) FROM operation_runs r WHERE r.tenant_id = t.id AND r.workspace_id IS NULL) \
                 AS items_pending \
             FROM tenants t WHERE t.workspace_id = $1 AND ($2 IS NULL OR t.id = $2) ORDER BY t.external_id",
            args![workspace_id, tenant_id],
        )
        .await
    }

    async fn run_tenant(&self, job: &TenantJob) -> Result<TenantResult, JobError> {
        loop {
            if job.should_stop() {
                return Err(JobError::Stopped);
            }
            let mut tx = job.db.begin().await?;
            let updated = tx
                .execute(
                    "UPDATE findings SET workspace_id = $2 WHERE id IN \
                     (SELECT id FROM findings WHERE tenant_id = $1 AND workspace_id IS NULL ORDER BY id LIMIT $3)",
                    args![job.tenant_id, job.workspace_id, job.chunk_size],
                )
                .await? as i64;
            if updated == 0 {
                tx.rollback().await?;
                break;
            }
            job.commit_chunk(tx, updated).await?;
        }
        let mut tx = job.db.begin().await?;
        let runs = tx
            .execute(
                "UPDATE operation_runs SET workspace_id = $2 WHERE tenant_id = $1 AND workspace_id IS NULL",
                args![job.tenant_id, job.workspace_id],
            )
            .await? as i64;
        job.commit_chunk(tx, runs).await?;
        let done = job
            .db
            .scalar::<i64>(
                "SELECT (SELECT count(*) FROM findings WHERE tenant_id = $1 AND workspace_id IS NOT NULL) \
                      + (SELECT count(*) FROM operation_runs WHERE tenant_id = $1 AND workspace_id IS NOT NULL)",
                args![job.tenant_id],
            )
            .await?;
        Ok(TenantResult { items_in_target_state: done, ..Default::default() })
    }
}
