//! The customer plane's reads: the findings and the runs of the user's own
//! workspace. Isolation is enforced here: a run of another workspace is
//! answered exactly like a run that does not exist.

use crate::accounts::CustomerIdentity;
use crate::clock::SharedClock;
use crate::domain::TextKind;
use crate::error::{Error, Result};
use crate::runs::OperationRunService;
use crate::runs::{Run, RunFilter};
use crate::storage::{Db, directory, findings as store};

use super::items::{FindingItem, Page, Paged};

const STATUSES: [&str; 4] = ["new", "acknowledged", "resolved", "risk_accepted"];
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// The findings list's filters, checked.
/// The customer plane's reads, each bounded by the user's workspace.
#[derive(Clone)]
pub struct CustomerService {
    db: Db,
    clock: SharedClock,
    runs: OperationRunService,
}

impl CustomerService {
    pub fn new(db: Db, clock: SharedClock, runs: OperationRunService) -> CustomerService {
        CustomerService { db, clock, runs }
    }
}

/// The findings' filters; they serialize as a query (absent ones left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FindingFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub tenant: Option<String>,
}

impl FindingFilter {
    /// From a door's text: blank means "any"; an unknown status or severity
    /// is bad input.
    pub fn parse(
        status: Option<&str>,
        severity: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<FindingFilter> {
        let blank = |field, v| TextKind::FILTER.optional(field, v).map_err(Error::BadInput);
        let status = blank("status", status)?;
        if let Some(s) = status
            && !STATUSES.contains(&s)
        {
            return Err(Error::BadInput(format!("unknown status {s:?}")));
        }
        let severity = blank("severity", severity)?;
        if let Some(s) = severity
            && !SEVERITIES.contains(&s)
        {
            return Err(Error::BadInput(format!("unknown severity {s:?}")));
        }
        Ok(FindingFilter {
            status: status.map(str::to_owned),
            severity: severity.map(str::to_owned),
            tenant: blank("tenant", tenant)?.map(str::to_owned),
        })
    }
}

impl CustomerService {
    /// The name of the user's workspace.
    pub async fn workspace_name(&self, user: &CustomerIdentity) -> Result<String> {
        Ok(directory::workspace_by_id(&self.db, user.workspace_id)
            .await?
            .map(|w| w.name)
            .unwrap_or_default())
    }

    /// Findings of the user's workspace, newest first.
    pub async fn findings(
        &self,
        user: &CustomerIdentity,
        filter: &FindingFilter,
        page: Page,
    ) -> Result<Paged<FindingItem>> {
        let rows = store::findings(
            &self.db,
            user.workspace_id,
            &store::FindingFilter {
                status: filter.status.clone(),
                severity: filter.severity.clone(),
                tenant_external_id: filter.tenant.clone(),
            },
            page.probe_limit(),
            page.offset(),
        )
        .await?;
        let now = self.clock.now();
        Ok(page.cut(rows.iter().map(|f| FindingItem::of(f, now)).collect()))
    }

    /// Runs of the user's workspace, newest first. Reading runs is not
    /// maintenance, so no capability is needed (FR-001 forbids acting only).
    pub async fn workspace_runs(&self, user: &CustomerIdentity, page: Page) -> Result<Paged<Run>> {
        let filter = RunFilter {
            workspace_id: Some(user.workspace_id),
            limit: page.probe_limit(),
            offset: page.offset(),
            ..RunFilter::default()
        };
        Ok(page.cut(self.runs.list(&filter).await?))
    }

    /// One run of the user's workspace; another workspace's run does not exist.
    pub async fn workspace_run(&self, user: &CustomerIdentity, id: i64) -> Result<Run> {
        self.runs
            .find(id)
            .await?
            .filter(|r| r.workspace_id == Some(user.workspace_id))
            .ok_or_else(|| Error::NotFound(format!("run {id} does not exist")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_filters_are_checked_and_blank_means_any() {
        let f = FindingFilter::parse(Some(" new "), Some(""), Some(" acme ")).unwrap();
        assert_eq!(f.status.as_deref(), Some("new"));
        assert_eq!(f.severity, None);
        assert_eq!(f.tenant.as_deref(), Some("acme"));
        assert!(matches!(
            FindingFilter::parse(Some("bogus"), None, None),
            Err(Error::BadInput(_))
        ));
        assert!(matches!(
            FindingFilter::parse(None, Some("nope"), None),
            Err(Error::BadInput(_))
        ));
    }
}
