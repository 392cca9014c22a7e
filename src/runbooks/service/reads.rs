//! Reads of the runbook service that write nothing, not even an audit
//! entry: the work pending per runbook that the dashboard polls, and the
//! fresh count a start is checked against.

use serde::Serialize;

use super::{Preflight, RunbookService, ScopeRequest};
use crate::domain::{Actor, Capability};
use crate::error::Result;
use crate::runs::Scope;

/// The work a runbook has over all tenants of the workspace.
#[derive(Debug, Clone, Serialize)]
pub struct PendingWork {
    pub key: &'static str,
    pub title: &'static str,
    /// What its items are called ("findings").
    pub item_noun: &'static str,
    pub tenants: i64,
    pub tenants_with_work: i64,
    pub items_pending: i64,
    /// The active all-tenants run of this runbook, if any.
    pub active_run_id: Option<i64>,
}

impl RunbookService {
    /// Work pending per runbook over all tenants, without an audit entry
    /// (the dashboard polls it).
    pub async fn pending_work(&self, actor: &Actor) -> Result<Vec<PendingWork>> {
        actor.require(Capability::RUNBOOKS_VIEW)?;
        let ws = self.workspace().await?;
        let mut work = Vec::new();
        for runbook in self.registry.all() {
            let per_tenant = runbook.pending(&self.db, ws.id, None).await?;
            let probe = Self::new_run(runbook.as_ref(), &ws, actor, Scope::AllTenants, None);
            work.push(PendingWork {
                key: runbook.key().0,
                title: runbook.title(),
                item_noun: runbook.item_noun(),
                tenants: per_tenant.len() as i64,
                tenants_with_work: per_tenant.iter().filter(|t| t.items_pending > 0).count() as i64,
                items_pending: per_tenant.iter().map(|t| t.items_pending).sum(),
                active_run_id: self.runs.active_by_identity(&probe).await?,
            });
        }
        Ok(work)
    }

    /// A fresh preflight without its audit entry: what a start is checked
    /// against after the operator reviewed an earlier one.
    pub async fn recount(
        &self,
        actor: &Actor,
        key: &str,
        scope: &ScopeRequest,
    ) -> Result<Preflight> {
        self.count(actor, key, scope).await
    }

    /// What a runbook calls its items ("findings").
    pub fn item_noun(&self, key: &str) -> Result<&'static str> {
        Ok(self.runbook(key)?.item_noun())
    }

    /// The title of a runbook key, for headings; None for a key no longer
    /// registered. Not secret, like the keys.
    pub fn title_of(&self, key: &str) -> Option<&'static str> {
        self.registry.get(key).map(|r| r.title())
    }
}
