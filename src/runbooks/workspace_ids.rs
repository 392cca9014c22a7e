//! `workspaces.backfill-ids`: fills a missing `workspace_id` on findings and
//! operation runs from their tenant.

use async_trait::async_trait;

use crate::args;
use crate::domain::RunbookKey;
use crate::runbooks::{About, JobError, Runbook, TenantJob};
use crate::runs::TenantResult;

pub const KEY: RunbookKey = RunbookKey("workspaces.backfill-ids");

static ABOUT: About = About {
    key: KEY,
    title: "Backfill workspace IDs",
    description: "Fills a missing workspace_id on findings and operation runs from their tenant.",
    item_noun: "records",
    runs_on_deploy: true,
    items_pending: "(SELECT count(*) FROM findings f WHERE f.tenant_id = t.id AND f.workspace_id IS NULL) \
         + (SELECT count(*) FROM operation_runs r WHERE r.tenant_id = t.id AND r.workspace_id IS NULL)",
};

pub struct WorkspaceIdsBackfill;

#[async_trait]
impl Runbook for WorkspaceIdsBackfill {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn run_tenant(&self, job: &TenantJob) -> Result<TenantResult, JobError> {
        loop {
            if job.should_stop() {
                return Err(JobError::Stopped);
            }
            let mut tx = job.db.begin_relaxed().await?;
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
        let mut tx = job.db.begin_relaxed().await?;
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
        Ok(TenantResult {
            items_in_target_state: done,
            ..Default::default()
        })
    }
}
