//! `findings.backfill-lifecycle`: fills the lifecycle fields of legacy
//! findings (SPEC §3.1), a chunk of findings per transaction, each chunk one
//! set-based UPDATE. A finding already backfilled is never touched again.

use async_trait::async_trait;

use crate::args;
use crate::domain::RunbookKey;
use crate::runbooks::{JobError, Runbook, TenantJob, TenantPending};
use crate::runs::{ItemFailure, TenantResult};
use crate::storage::{Db, queue};

pub const KEY: RunbookKey = RunbookKey("findings.backfill-lifecycle");

pub const UNKNOWN_LEGACY_STATE: &str = "finding.unknown_legacy_state";
pub const UNKNOWN_SEVERITY: &str = "finding.unknown_severity";

const LEGACY_STATES: [&str; 3] = ["open", "closed", "ignored"];

pub struct FindingsLifecycleBackfill;

/// One chunk's UPDATE, shared by both dialects but for dates: each finding's
/// observations are aggregated by a correlated subquery over the
/// `(finding_id, observed_at)` index, so the chunk is one index scan of the
/// pending findings with no join back to `findings`.
macro_rules! chunk_update {
    ($greatest:literal, $sla:literal) => {
        concat!(
            "UPDATE findings SET ",
            "status = CASE legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved' ",
            "    ELSE 'risk_accepted' END, ",
            "(first_seen_at, last_seen_at, times_seen, sla_due_at) = (",
            "  SELECT COALESCE(min(o.observed_at), findings.created_at), ",
            "         COALESCE(max(o.observed_at), findings.updated_at), ",
            $greatest,
            "(count(*), 1), ",
            $sla,
            "  FROM finding_observations o WHERE o.finding_id = findings.id), ",
            "resolved_at = CASE WHEN legacy_state = 'closed' THEN COALESCE(closed_at, updated_at) END, ",
            "lifecycle_version = 1 ",
            "WHERE tenant_id = $1 AND id > $2 AND id <= $3 AND lifecycle_version IS NULL ",
            "  AND legacy_state IN ('open', 'closed', 'ignored') ",
            "  AND severity IN ('critical', 'high', 'medium', 'low')"
        )
    };
}

const CHUNK_SQLITE: &str = chunk_update!(
    "max",
    "strftime('%Y-%m-%dT%H:%M:%fZ', COALESCE(min(o.observed_at), findings.created_at), \
     CASE findings.severity WHEN 'critical' THEN '+7 days' WHEN 'high' THEN '+30 days' \
     WHEN 'medium' THEN '+90 days' ELSE '+180 days' END)"
);

const CHUNK_POSTGRES: &str = chunk_update!(
    "GREATEST",
    "COALESCE(min(o.observed_at), findings.created_at) + CASE findings.severity \
     WHEN 'critical' THEN interval '7 days' WHEN 'high' THEN interval '30 days' \
     WHEN 'medium' THEN interval '90 days' ELSE interval '180 days' END"
);

/// A pending finding the backfill cannot map: it stays pending and fails
/// its tenant with a reason code.
#[derive(sqlx::FromRow)]
struct Unmappable {
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

    async fn already_done(
        &self,
        db: &Db,
        tenant_ids: &[i64],
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let listed = queue::in_id_list(db.backend(), "t.id", "$1");
        db.fetch_all(
            &format!(
                "SELECT t.id, (SELECT count(*) FROM findings f WHERE f.tenant_id = t.id) \
                 FROM tenants t WHERE {listed} AND NOT EXISTS \
                     (SELECT 1 FROM findings p WHERE p.tenant_id = t.id AND p.lifecycle_version IS NULL)"
            ),
            args![queue::id_list(tenant_ids.iter().copied())],
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
        // Findings that cannot be mapped are found once, up front (the tenant
        // is locked, so the set cannot change); every chunk skips them.
        let failures: Vec<ItemFailure> = if pending > 0 {
            job.db
                .fetch_all::<Unmappable>(
                    "SELECT id, legacy_state, severity FROM findings \
                     WHERE tenant_id = $1 AND lifecycle_version IS NULL \
                       AND NOT (legacy_state IN ('open', 'closed', 'ignored') \
                                AND severity IN ('critical', 'high', 'medium', 'low')) \
                     ORDER BY id",
                    args![job.tenant_id],
                )
                .await?
                .into_iter()
                .map(unmappable_failure)
                .collect()
        } else {
            Vec::new()
        };
        let mut cursor = 0i64;
        let mut updated_total = 0i64;
        // Nothing pending: no chunk query at all (fan-out over idle tenants).
        let mut more = pending > 0;
        while more {
            if job.should_stop() {
                return Err(JobError::Stopped);
            }
            // The chunk is the next `chunk_size` pending ids, read from the
            // partial index alone; only its bounds leave the database.
            let (last, size): (Option<i64>, i64) = job
                .db
                .fetch_one(
                    "SELECT max(id), count(*) FROM (SELECT id FROM findings \
                     WHERE tenant_id = $1 AND lifecycle_version IS NULL AND id > $2 \
                     ORDER BY id LIMIT $3) AS chunk",
                    args![job.tenant_id, cursor, job.chunk_size],
                )
                .await?;
            let Some(last) = last else {
                break;
            };
            more = size == job.chunk_size;
            let mut tx = job.db.begin_relaxed().await?;
            let updated = tx
                .execute(
                    job.db.pick(CHUNK_SQLITE, CHUNK_POSTGRES),
                    args![job.tenant_id, cursor, last],
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

fn unmappable_failure(f: Unmappable) -> ItemFailure {
    if !LEGACY_STATES.contains(&f.legacy_state.as_str()) {
        ItemFailure {
            reason_code: UNKNOWN_LEGACY_STATE.into(),
            message: format!(
                "finding {} has unknown legacy_state {:?}",
                f.id, f.legacy_state
            ),
        }
    } else {
        ItemFailure {
            reason_code: UNKNOWN_SEVERITY.into(),
            message: format!("finding {} has unknown severity {:?}", f.id, f.severity),
        }
    }
}
