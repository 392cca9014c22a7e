//! Runs as the console finds them: the runs page's filters (runbook, status,
//! outcome, initiator, tenant, dates, reason) with their total and pages,
//! the dashboard's slices (recent runs by scope, failures of the last hours),
//! and the tenant search of the scope picker. Bad filter text is the
//! caller's error, named by its field.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use crate::accounts::OperatorIdentity;
use crate::clock::SharedClock;
use crate::domain::{Capability, TenantExternalId, TextKind};
use crate::error::{Error, Result};
use crate::runs::{Run, RunFilter};
use crate::storage::runs::reads::{self as store, RunQuery};
use crate::storage::{Db, directory, runs as run_rows};

use super::items::TenantChoice;

/// Runs as lists (the runs page, the dashboard's slices, a run's failure
/// groups) and the tenants to scope a run to, for operators.
#[derive(Clone)]
pub struct RunListService {
    db: Db,
    clock: SharedClock,
}

impl RunListService {
    pub fn new(db: Db, clock: SharedClock) -> RunListService {
        RunListService { db, clock }
    }
}

/// The runs page's filters as a door received them; blank means "any".
#[derive(Debug, Clone, Default)]
pub struct RunListFilter {
    pub runbook: Option<String>,
    pub status: Option<String>,
    pub outcome: Option<String>,
    pub initiator: Option<String>,
    /// A tenant's external id.
    pub tenant: Option<String>,
    /// `YYYY-MM-DD`, a day in UTC, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, a day in UTC, inclusive.
    pub to: Option<String>,
    pub reason: Option<String>,
}

/// One page of runs, with how many match in all.
#[derive(Debug, Clone)]
pub struct RunList {
    pub runs: Vec<Run>,
    pub total: i64,
    /// 1-based; an asked page past the last is the last.
    pub page: i64,
    /// At least 1.
    pub pages: i64,
}

/// Active runs the dashboard shows (queued, running, paused).
pub const ACTIVE_ROWS: i64 = 10;
/// Recent runs of each kind of scope the dashboard shows.
pub const RECENT_ROWS: i64 = 5;
/// Recent failures the dashboard shows, and the hours it looks back.
pub const FAILURE_ROWS: i64 = 5;
pub const FAILURE_HOURS: i64 = 24;

/// The failed and partially succeeded runs of a recent window.
#[derive(Debug, Clone)]
pub struct RecentFailures {
    pub total: i64,
    pub runs: Vec<Run>,
}

impl RecentFailures {
    /// How many, in words (`3 runs`).
    pub fn total_words(&self) -> String {
        crate::domain::figures::plural(self.total, "run")
    }
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn day(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>> {
    let Some(text) = TextKind::FILTER
        .optional(field, v)
        .map_err(Error::BadInput)?
    else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Error::BadInput(format!("{field}: must be a date like 2026-03-01")))
}

impl RunListService {
    /// The tenants a run can be scoped to (v1: the default workspace's).
    pub async fn tenants(&self, op: &OperatorIdentity) -> Result<Vec<TenantChoice>> {
        op.capabilities.require(Capability::RUNBOOKS_VIEW)?;
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

    /// Checks a door's filters and turns them into a query.
    async fn run_query(&self, f: &RunListFilter) -> Result<RunQuery> {
        let base = RunFilter::parse(blank(&f.runbook), blank(&f.status), blank(&f.outcome))?;
        let text = |field: &str, v: &Option<String>| {
            TextKind::FILTER
                .optional(field, blank(v))
                .map(|v| v.map(str::to_owned))
                .map_err(Error::BadInput)
        };
        let tenant_id = match blank(&f.tenant) {
            None => None,
            Some(raw) => {
                let ext = TenantExternalId::parse(raw).map_err(Error::BadInput)?;
                let ws = directory::default_workspace(&self.db).await?;
                let tenant = directory::tenant_by_external_id(&self.db, ws.id, ext.as_str())
                    .await?
                    .ok_or_else(|| {
                        Error::BadInput(format!(
                            "tenant: no tenant has the external id {:?}",
                            ext.as_str()
                        ))
                    })?;
                Some(tenant.id)
            }
        };
        let from = day("from", blank(&f.from))?;
        let to = day("to", blank(&f.to))?;
        if let (Some(a), Some(b)) = (from, to)
            && b < a
        {
            return Err(Error::BadInput(
                "to: the last day must not be before the first".into(),
            ));
        }
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| Utc.from_local_datetime(&t).single())
        };
        Ok(RunQuery {
            runbook: base.runbook,
            status: base.status.map(|s| s.as_str().to_owned()),
            outcome: base.outcome.map(|o| o.as_str().to_owned()),
            initiator: text("initiator", &f.initiator)?,
            tenant_id,
            created_from: from.and_then(midnight),
            created_before: to.and_then(|d| d.succ_opt()).and_then(midnight),
            reason: text("reason", &f.reason)?,
            ..RunQuery::default()
        })
    }

    /// A page of the runs matching `filter`, newest first, with the total;
    /// a page past the last answers the last.
    pub async fn run_list(
        &self,
        op: &OperatorIdentity,
        filter: &RunListFilter,
        page: i64,
        page_size: i64,
    ) -> Result<RunList> {
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let query = self.run_query(filter).await?;
        let size = page_size.max(1);
        let total = store::count(&self.db, &query).await?;
        let pages = ((total + size - 1) / size).max(1);
        let page = page.clamp(1, pages);
        let ids = store::page_ids(&self.db, &query, size, (page - 1) * size).await?;
        Ok(RunList {
            runs: run_rows::list_by_ids(&self.db, &ids).await?,
            total,
            page,
            pages,
        })
    }

    /// The latest runs of one kind of scope ([`RECENT_ROWS`]): one-tenant
    /// runs, or runs over a workspace (all tenants, retries), so neither
    /// pushes the other out.
    pub async fn recent_runs(&self, op: &OperatorIdentity, one_tenant: bool) -> Result<Vec<Run>> {
        let limit = RECENT_ROWS;
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let query = RunQuery {
            one_tenant: Some(one_tenant),
            ..RunQuery::default()
        };
        let ids = store::page_ids(&self.db, &query, limit, 0).await?;
        Ok(run_rows::list_by_ids(&self.db, &ids).await?)
    }

    /// Runs not yet completed (queued, running, paused), newest first
    /// ([`ACTIVE_ROWS`]).
    pub async fn active_runs(&self, op: &OperatorIdentity) -> Result<Vec<Run>> {
        let limit = ACTIVE_ROWS;
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let query = RunQuery {
            active_only: true,
            ..RunQuery::default()
        };
        let ids = store::page_ids(&self.db, &query, limit, 0).await?;
        Ok(run_rows::list_by_ids(&self.db, &ids).await?)
    }

    /// Runs that completed failed or partially succeeded in the last
    /// [`FAILURE_HOURS`]: how many, and the latest [`FAILURE_ROWS`].
    pub async fn recent_failures(&self, op: &OperatorIdentity) -> Result<RecentFailures> {
        let (hours, limit) = (FAILURE_HOURS, FAILURE_ROWS);
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let query = RunQuery {
            failed_since: Some(self.clock.now() - Duration::hours(hours)),
            ..RunQuery::default()
        };
        let total = store::count(&self.db, &query).await?;
        let ids = store::page_ids(&self.db, &query, limit, 0).await?;
        Ok(RecentFailures {
            total,
            runs: run_rows::list_by_ids(&self.db, &ids).await?,
        })
    }

    /// Tenants of the default workspace whose external id or name contains
    /// `text` (those starting with it first), at most `limit`.
    pub async fn search_tenants(
        &self,
        op: &OperatorIdentity,
        text: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TenantChoice>> {
        op.capabilities.require(Capability::RUNBOOKS_VIEW)?;
        let text = TextKind::FILTER
            .optional("tenant", text)
            .map_err(Error::BadInput)?
            .unwrap_or("");
        let ws = directory::default_workspace(&self.db).await?;
        let rows = store::search_tenants(&self.db, ws.id, text, limit.clamp(1, 100)).await?;
        Ok(rows
            .into_iter()
            .map(|(external_id, name)| TenantChoice { external_id, name })
            .collect())
    }

    /// How many tenants the default workspace has.
    pub async fn tenant_count(&self, op: &OperatorIdentity) -> Result<i64> {
        op.capabilities.require(Capability::RUNBOOKS_VIEW)?;
        let ws = directory::default_workspace(&self.db).await?;
        Ok(store::tenant_count(&self.db, ws.id).await?)
    }
}

/// The failures of a run that share a reason code.
#[derive(Debug, Clone)]
pub struct FailureGroup {
    pub reason_code: String,
    pub tenants: i64,
    pub failures: i64,
    /// One of its messages.
    pub sample: String,
    /// A failure of the data itself (a retry meets it again), not of the
    /// machinery (`job.*`: attempts exhausted, which a retry may get past).
    pub data_error: bool,
}

impl RunListService {
    /// A run's failures grouped by reason code, the most common first.
    pub async fn failure_groups(
        &self,
        op: &OperatorIdentity,
        run_id: i64,
    ) -> Result<Vec<FailureGroup>> {
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let rows = store::failure_groups(&self.db, run_id).await?;
        Ok(rows
            .into_iter()
            .map(|r| FailureGroup {
                data_error: !r.reason_code.starts_with("job."),
                reason_code: r.reason_code,
                tenants: r.tenants,
                failures: r.failures,
                sample: r.sample,
            })
            .collect())
    }
}
