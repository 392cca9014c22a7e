//! Reads of a workspace's findings, as the customer plane lists them.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Arg, Db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FindingRow {
    pub id: i64,
    pub tenant_external_id: String,
    pub title: String,
    pub severity: String,
    pub legacy_state: String,
    pub status: Option<String>,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub tenant_external_id: Option<String>,
}

/// Findings of a workspace (through their tenant, so legacy rows without a
/// `workspace_id` are included), newest first.
pub async fn findings(
    db: &Db,
    workspace_id: i64,
    filter: &FindingFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<FindingRow>, sqlx::Error> {
    let args: Vec<Arg> = args![
        workspace_id,
        filter.status.clone(),
        filter.severity.clone(),
        filter.tenant_external_id.clone(),
        limit,
        offset
    ];
    db.fetch_all(
        "SELECT f.id, t.external_id AS tenant_external_id, f.title, f.severity, f.legacy_state, f.status, \
                f.sla_due_at, f.last_seen_at \
         FROM findings f JOIN tenants t ON t.id = f.tenant_id \
         WHERE t.workspace_id = $1 AND ($2 IS NULL OR f.status = $2) AND ($3 IS NULL OR f.severity = $3) \
           AND ($4 IS NULL OR t.external_id = $4) \
         ORDER BY f.id DESC LIMIT $5 OFFSET $6",
        args,
    )
    .await
}
