//! The runbook service: the one place every door (console, CLI, deploy hook)
//! calls to list runbooks, run preflight and start runs (handed to the run
//! service as a plan; a run's controls and retries are the run service's).
//! Doors parse and present; checks that more than one door needs live here.

pub mod drift;
pub mod reads;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::SharedClock;
use crate::domain::{Actor, AuditEntry, Capability, Reason, TenantExternalId, TextKind, Workspace};
use crate::error::{Error, Result};
use crate::runbooks::{Registry, Runbook, TenantPending, planned};
use crate::runs::{Ensured, Initiator, NewRun, OperationRunService, Run, RunLimits, Scope};
use crate::storage::{Db, directory};

/// The scope as a door received it: exactly one of "all tenants" or a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRequest {
    AllTenants,
    Tenant(TenantExternalId),
}

impl ScopeRequest {
    /// From `--all-tenants` / `--tenant X` (or the form's `scope` + `tenant`):
    /// both or neither is bad input.
    pub fn from_parts(all_tenants: bool, tenant: Option<&str>) -> Result<ScopeRequest> {
        match (all_tenants, tenant) {
            (true, None) => Ok(ScopeRequest::AllTenants),
            (false, Some(t)) => TenantExternalId::parse(t)
                .map(ScopeRequest::Tenant)
                .map_err(Error::BadInput),
            (true, Some(_)) => Err(Error::BadInput(
                "choose either one tenant or all tenants, not both".into(),
            )),
            (false, None) => Err(Error::BadInput(
                "choose a scope: one tenant (--tenant ID) or --all-tenants".into(),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunbookInfo {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub capability: &'static str,
    pub runs_on_deploy: bool,
    pub can_start: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preflight {
    pub runbook: &'static str,
    pub scope: Scope,
    pub tenants: i64,
    pub items_pending: i64,
    pub per_tenant: Vec<TenantPending>,
    pub active_run_id: Option<i64>,
    pub can_start: bool,
    /// When it was counted.
    pub taken_at: DateTime<Utc>,
}

/// What the deploy hook did for one runbook.
#[derive(Debug, Clone, Serialize)]
pub struct DeployAction {
    pub runbook: &'static str,
    pub items_pending: i64,
    /// `started`, `already_running` or `nothing_to_do`.
    pub action: &'static str,
    pub run: Option<Run>,
}

#[derive(Clone)]
pub struct RunbookService {
    pub(super) db: Db,
    pub(super) clock: SharedClock,
    registry: Arc<Registry>,
    pub(super) runs: OperationRunService,
}

impl RunbookService {
    pub fn new(
        db: Db,
        clock: SharedClock,
        registry: Arc<Registry>,
        runs: OperationRunService,
    ) -> Self {
        RunbookService {
            db,
            clock,
            registry,
            runs,
        }
    }

    /// The runbooks this actor may see.
    pub fn list(&self, actor: &Actor) -> Result<Vec<RunbookInfo>> {
        actor.require(Capability::RUNBOOKS_VIEW)?;
        Ok(self
            .registry
            .all()
            .iter()
            .map(|r| Self::info_of(r.as_ref(), actor))
            .collect())
    }

    /// One runbook as this actor may see it; unknown is `NotFound`.
    pub fn info(&self, actor: &Actor, key: &str) -> Result<RunbookInfo> {
        actor.require(Capability::RUNBOOKS_VIEW)?;
        Ok(Self::info_of(self.runbook(key)?.as_ref(), actor))
    }

    /// The registered runbook keys (filters of run lists); not secret.
    pub fn keys(&self) -> Vec<&'static str> {
        self.registry.keys()
    }

    fn info_of(r: &dyn Runbook, actor: &Actor) -> RunbookInfo {
        RunbookInfo {
            key: r.key().0,
            title: r.title(),
            description: r.description(),
            capability: r.capability().as_str(),
            runs_on_deploy: r.runs_on_deploy(),
            can_start: actor.capabilities.has(r.capability()),
        }
    }

    pub fn runbook(&self, key: &str) -> Result<Arc<dyn Runbook>> {
        self.registry.require(key)
    }

    /// v1 runbooks act on the default workspace (seed decision 3).
    pub async fn workspace(&self) -> Result<Workspace> {
        directory::default_workspace(&self.db).await
    }

    async fn resolve_scope(&self, ws: &Workspace, scope: &ScopeRequest) -> Result<Scope> {
        match scope {
            ScopeRequest::AllTenants => Ok(Scope::AllTenants),
            ScopeRequest::Tenant(ext) => {
                let tenant = directory::tenant_by_external_id(&self.db, ws.id, ext.as_str())
                    .await?
                    .ok_or_else(|| {
                        Error::Unknown(format!(
                            "unknown tenant {:?} in workspace {}",
                            ext.as_str(),
                            ws.slug
                        ))
                    })?;
                Ok(Scope::Tenant {
                    tenant_id: tenant.id,
                    tenant_external_id: tenant.external_id,
                })
            }
        }
    }

    /// The run `actor` would start of `runbook` over `scope`, without
    /// limits or preflight: its identity finds the active run it would meet.
    pub(super) fn new_run(
        runbook: &dyn Runbook,
        ws: &Workspace,
        actor: &Actor,
        scope: Scope,
        reason: Option<Reason>,
    ) -> NewRun {
        NewRun::new(
            runbook.key().0,
            ws.id,
            actor.initiator.clone(),
            scope,
            reason,
        )
    }

    /// Counts what a run would do. Writes nothing but its audit entry.
    pub async fn preflight(
        &self,
        actor: &Actor,
        key: &str,
        scope: &ScopeRequest,
    ) -> Result<Preflight> {
        let preflight = self.count(actor, key, scope).await?;
        self.audit(actor.audit(
            "runbook.preflight",
            Some(format!("runbook:{}", preflight.runbook)),
            serde_json::json!({"scope": preflight.scope, "items_pending": preflight.items_pending}),
        ))
        .await?;
        Ok(preflight)
    }

    /// What [`RunbookService::preflight`] counts, without its audit entry.
    async fn count(&self, actor: &Actor, key: &str, scope: &ScopeRequest) -> Result<Preflight> {
        actor.require(Capability::RUNBOOKS_VIEW)?;
        let runbook = self.runbook(key)?;
        let ws = self.workspace().await?;
        let scope = self.resolve_scope(&ws, scope).await?;
        let per_tenant = runbook.pending(&self.db, ws.id, scope.tenant_id()).await?;
        let probe = Self::new_run(runbook.as_ref(), &ws, actor, scope.clone(), None);
        let active_run_id = self.runs.active_by_identity(&probe).await?;
        Ok(Preflight {
            runbook: runbook.key().0,
            scope,
            tenants: per_tenant.len() as i64,
            items_pending: per_tenant.iter().map(|t| t.items_pending).sum(),
            per_tenant,
            active_run_id,
            can_start: actor.capabilities.has(runbook.capability()),
            taken_at: self.clock.now(),
        })
    }

    /// Starts a run, or returns the active run of the same runbook and scope.
    pub async fn start(
        &self,
        actor: &Actor,
        key: &str,
        scope: &ScopeRequest,
        reason: Option<&str>,
    ) -> Result<Ensured> {
        self.start_with_limits(actor, key, scope, reason, RunLimits::default())
            .await
    }

    /// [`RunbookService::start`] with a concurrency cap and error budget
    /// (parsed by [`RunLimits::parse`]).
    pub async fn start_with_limits(
        &self,
        actor: &Actor,
        key: &str,
        scope: &ScopeRequest,
        reason: Option<&str>,
        limits: RunLimits,
    ) -> Result<Ensured> {
        let runbook = self.runbook(key)?;
        actor.require(runbook.capability())?;
        let reason = Reason::parse(reason, actor.reason_required()).map_err(Error::BadInput)?;
        let ws = self.workspace().await?;
        let scope = self.resolve_scope(&ws, scope).await?;
        let expected = planned(runbook.as_ref(), &self.db, ws.id, scope.tenant_id()).await?;
        let mut new = Self::new_run(runbook.as_ref(), &ws, actor, scope, reason);
        new.limits = limits;
        new.expected = Some(expected);
        self.runs.start(actor, new).await
    }

    /// The deploy hook: for each runbook marked for deploy, preflight all
    /// tenants and start the run where there is work (idempotently).
    pub async fn deploy_hook(&self, release: Option<String>) -> Result<Vec<DeployAction>> {
        let release = TextKind::IDENTIFIER
            .optional("release", release.as_deref())
            .map_err(Error::BadInput)?
            .map(str::to_owned);
        let actor = Actor::trusted(Initiator::Deploy {
            release: release.clone(),
        });
        let mut actions = Vec::new();
        for runbook in self.registry.all().iter().filter(|r| r.runs_on_deploy()) {
            let key = runbook.key().0;
            let preflight = self
                .preflight(&actor, key, &ScopeRequest::AllTenants)
                .await?;
            let action = if preflight.items_pending == 0 && preflight.active_run_id.is_none() {
                DeployAction {
                    runbook: key,
                    items_pending: 0,
                    action: "nothing_to_do",
                    run: None,
                }
            } else {
                let reason = match &release {
                    Some(r) => format!("deploy of release {r}"),
                    None => "deploy".to_owned(),
                };
                let ensured = self
                    .start(&actor, key, &ScopeRequest::AllTenants, Some(&reason))
                    .await?;
                DeployAction {
                    runbook: key,
                    items_pending: preflight.items_pending,
                    action: if ensured.created {
                        "started"
                    } else {
                        "already_running"
                    },
                    run: Some(ensured.run),
                }
            };
            actions.push(action);
        }
        Ok(actions)
    }

    pub(super) async fn audit(&self, entry: AuditEntry) -> Result<()> {
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(())
    }
}
