//! `findings.backfill-lifecycle`: fills the lifecycle fields of legacy
//! findings (SPEC §3.1), a chunk of findings per transaction, each chunk one
//! set-based UPDATE. A finding already backfilled is never touched again.

use async_trait::async_trait;

use crate::args;
use crate::domain::RunbookKey;
use crate::runbooks::{JobError, Runbook, TenantJob, TenantPending};
use crate::runs::{ItemFailure, TenantResult};
use crate::storage::Db;

pub const KEY: RunbookKey = RunbookKey("findings.backfill-lifecycle");

pub const UNKNOWN_LEGACY_STATE: &str = "finding.unknown_legacy_state";
pub const UNKNOWN_SEVERITY: &str = "finding.unknown_severity";

const LEGACY_STATES: [&str; 3] = ["open", "closed", "ignored"];
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

pub struct FindingsLifecycleBackfill;

/// The chunk's computed lifecycle, shared by both dialects but for dates.
macro_rules! computed_chunk {
    ($times_seen:literal, $sla:literal) => {
        concat!(
            "SELECT f.id, ",
            "CASE f.legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved' ",
            "     WHEN 'ignored' THEN 'risk_accepted' END AS status, ",
            "COALESCE(o.first_at, f.created_at) AS first_seen, ",
            "COALESCE(o.last_at, f.updated_at) AS last_seen, ",
            $times_seen,
            " AS times_seen, ",
            "CASE WHEN f.legacy_state = 'closed' THEN COALESCE(f.closed_at, f.updated_at) END AS resolved_at, ",
            $sla,
            " AS sla ",
            "FROM findings f ",
            "LEFT JOIN (SELECT ob.finding_id, min(ob.observed_at) AS first_at, max(ob.observed_at) AS last_at, ",
            "                  count(*) AS n ",
            "           FROM finding_observations ob JOIN findings fo ON fo.id = ob.finding_id ",
            "           WHERE fo.tenant_id = $1 AND fo.id BETWEEN $2 AND $3 AND fo.lifecycle_version IS NULL ",
            "           GROUP BY ob.finding_id) o ON o.finding_id = f.id ",
            "WHERE f.tenant_id = $1 AND f.id BETWEEN $2 AND $3 AND f.lifecycle_version IS NULL ",
            "  AND f.legacy_state IN ('open', 'closed', 'ignored') ",
            "  AND f.severity IN ('critical', 'high', 'medium', 'low')"
        )
    };
}

const CHUNK_SQLITE: &str = concat!(
    "UPDATE findings SET status = c.status, first_seen_at = c.first_seen, last_seen_at = c.last_seen, ",
    "times_seen = c.times_seen, resolved_at = c.resolved_at, ",
    "sla_due_at = strftime('%Y-%m-%dT%H:%M:%fZ', c.first_seen, c.sla), lifecycle_version = 1 ",
    "FROM (",
    computed_chunk!(
        "max(COALESCE(o.n, 0), 1)",
        "CASE f.severity WHEN 'critical' THEN '+7 days' WHEN 'high' THEN '+30 days' \
         WHEN 'medium' THEN '+90 days' WHEN 'low' THEN '+180 days' END"
    ),
    ") AS c WHERE findings.id = c.id AND findings.lifecycle_version IS NULL"
);

const CHUNK_POSTGRES: &str = concat!(
    "UPDATE findings SET status = c.status, first_seen_at = c.first_seen, last_seen_at = c.last_seen, ",
    "times_seen = c.times_seen, resolved_at = c.resolved_at, ",
    "sla_due_at = c.first_seen + c.sla, lifecycle_version = 1 ",
    "FROM (",
    computed_chunk!(
        "GREATEST(COALESCE(o.n, 0), 1)",
        "CASE f.severity WHEN 'critical' THEN interval '7 days' WHEN 'high' THEN interval '30 days' \
         WHEN 'medium' THEN interval '90 days' WHEN 'low' THEN interval '180 days' END"
    ),
    ") AS c WHERE findings.id = c.id AND findings.lifecycle_version IS NULL"
);

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    legacy_state: String,
    severity: String,
}

#[async_trait]
impl Runbook for FindingsLifecycleBackfill {
    fn key(&self) -> RunbookKey {
        KEY
    }
    fn title(&self) -> &'static str {
        "Backfill findings lifecycle"
    }
    fn description(&self) -> &'static str {
        "Fills status, first/last seen, times seen, resolved at and SLA due date of findings \
         that predate the lifecycle, from their legacy state and observations."
    }
    fn item_noun(&self) -> &'static str {
        "findings"
    }
    fn runs_on_deploy(&self) -> bool {
        true
    }

    async fn pending(
        &self,
        db: &Db,
        workspace_id: i64,
        tenant_id: Option<i64>,
    ) -> Result<Vec<TenantPending>, sqlx::Error> {
        db.fetch_all(
            "SELECT t.id AS tenant_id, t.external_id AS tenant_external_id, \
                 (SELECT count(*) FROM findings f WHERE f.tenant_id = t.id AND f.lifecycle_version IS NULL) \
                 AS items_pending \
             FROM tenants t WHERE t.workspace_id = $1 AND ($2 IS NULL OR t.id = $2) ORDER BY t.external_id",
            args![workspace_id, tenant_id],
        )
        .await
    }

    async fn run_tenant(&self, job: &TenantJob) -> Result<TenantResult, JobError> {
        // The tenant is locked, so what is done now plus what this job updates
        // is what is done at the end.
        let (done_before, pending): (i64, i64) = job
            .db
            .fetch_one(
                "SELECT count(*) - count(lifecycle_version), count(lifecycle_version) FROM findings \
                 WHERE tenant_id = $1",
                args![job.tenant_id],
            )
            .await
            .map(|(pending, done): (i64, i64)| (done, pending))?;
        let mut cursor = 0i64;
        let mut failures = Vec::new();
        let mut updated_total = 0i64;
        // Nothing pending: no chunk query at all (fan-out over idle tenants).
        let mut more = pending > 0;
        while more {
            if job.should_stop() {
                return Err(JobError::Stopped);
            }
            let chunk = job
                .db
                .fetch_all::<Candidate>(
                    "SELECT id, legacy_state, severity FROM findings \
                     WHERE tenant_id = $1 AND lifecycle_version IS NULL AND id > $2 ORDER BY id LIMIT $3",
                    args![job.tenant_id, cursor, job.chunk_size],
                )
                .await?;
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                break;
            };
            more = chunk.len() as i64 == job.chunk_size;
            let (first, last) = (first.id, last.id);
            for c in &chunk {
                if !LEGACY_STATES.contains(&c.legacy_state.as_str()) {
                    failures.push(ItemFailure {
                        reason_code: UNKNOWN_LEGACY_STATE.into(),
                        message: format!(
                            "finding {} has unknown legacy_state {:?}",
                            c.id, c.legacy_state
                        ),
                    });
                } else if !SEVERITIES.contains(&c.severity.as_str()) {
                    failures.push(ItemFailure {
                        reason_code: UNKNOWN_SEVERITY.into(),
                        message: format!("finding {} has unknown severity {:?}", c.id, c.severity),
                    });
                }
            }
            let mut tx = job.db.begin_relaxed().await?;
            let updated = tx
                .execute(
                    job.db.pick(CHUNK_SQLITE, CHUNK_POSTGRES),
                    args![job.tenant_id, first, last],
                )
                .await?;
            job.commit_chunk(tx, updated as i64).await?;
            updated_total += updated as i64;
            cursor = last;
        }
        Ok(TenantResult {
            items_in_target_state: done_before + updated_total,
            items_failed: failures.len() as i64,
            failures,
        })
    }
}
