//! `findings.backfill-lifecycle`: fills the lifecycle fields of legacy
//! findings (SPEC §3.1), a chunk of findings per transaction, each chunk one
//! set-based UPDATE. A finding already backfilled is never touched again.

use async_trait::async_trait;

use crate::args;
use crate::domain::RunbookKey;
use crate::runbooks::{About, JobError, Runbook, TenantJob};
use crate::runs::{ItemFailure, TenantResult};
use crate::storage::{Backend, Db, id_list, in_id_list};

pub const KEY: RunbookKey = RunbookKey("findings.backfill-lifecycle");

static ABOUT: About = About {
    key: KEY,
    title: "Backfill findings lifecycle",
    description: "Fills status, first/last seen, times seen, resolved at and SLA due date of findings \
     that predate the lifecycle, from their legacy state and observations.",
    item_noun: "findings",
    runs_on_deploy: true,
    items_pending: "(SELECT count(*) FROM findings f WHERE f.tenant_id = t.id AND f.lifecycle_version IS NULL)",
};

pub const UNKNOWN_LEGACY_STATE: &str = "finding.unknown_legacy_state";
pub const UNKNOWN_SEVERITY: &str = "finding.unknown_severity";

const LEGACY_STATES: [&str; 3] = ["open", "closed", "ignored"];

pub struct FindingsLifecycleBackfill;

/// Which pending findings the backfill can map; the others fail their
/// tenant with a reason code and stay pending. (A macro, so the chunk's
/// statement below is one literal with it.)
macro_rules! mappable {
    () => {
        "legacy_state IN ('open', 'closed', 'ignored') \
         AND severity IN ('critical', 'high', 'medium', 'low')"
    };
}
const MAPPABLE: &str = mappable!();

/// One chunk's UPDATE (SQLite; PostgreSQL runs the same statement in its
/// procedure): each finding's observations are aggregated by a correlated
/// subquery over the `(finding_id, observed_at)` index, so the chunk is one
/// index scan of the pending findings with no join back to `findings`.
const CHUNK_SQLITE: &str = concat!(
    "UPDATE findings SET \
     status = CASE legacy_state WHEN 'open' THEN 'new' WHEN 'closed' THEN 'resolved' \
         ELSE 'risk_accepted' END, \
     (first_seen_at, last_seen_at, times_seen, sla_due_at) = ( \
       SELECT COALESCE(min(o.observed_at), findings.created_at), \
              COALESCE(max(o.observed_at), findings.updated_at), \
              max(count(*), 1), \
              strftime('%Y-%m-%dT%H:%M:%fZ', COALESCE(min(o.observed_at), findings.created_at), \
                CASE findings.severity WHEN 'critical' THEN '+7 days' WHEN 'high' THEN '+30 days' \
                WHEN 'medium' THEN '+90 days' ELSE '+180 days' END) \
       FROM finding_observations o WHERE o.finding_id = findings.id), \
     resolved_at = CASE WHEN legacy_state = 'closed' THEN COALESCE(closed_at, updated_at) END, \
     lifecycle_version = 1 \
     WHERE tenant_id = $1 AND id > $2 AND id <= $3 AND lifecycle_version IS NULL AND ",
    mappable!()
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
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn already_done(
        &self,
        db: &Db,
        tenant_ids: &[i64],
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let listed = in_id_list(db.backend(), "t.id", "$1");
        db.fetch_all(
            &format!(
                "SELECT t.id, (SELECT count(*) FROM findings f WHERE f.tenant_id = t.id) \
                 FROM tenants t WHERE {listed} AND NOT EXISTS \
                     (SELECT 1 FROM findings p WHERE p.tenant_id = t.id AND p.lifecycle_version IS NULL)"
            ),
            args![id_list(tenant_ids.iter().copied())],
        )
        .await
    }

    async fn run_tenant(&self, job: &TenantJob) -> Result<TenantResult, JobError> {
        // The tenant is locked, so its findings cannot change meanwhile: what
        // is done now plus what this job updates is what is done at the end,
        // and the pending findings it could not update are the unmappable
        // ones. Both counts come from indexes alone.
        let (total, pending): (i64, i64) = job
            .db
            .fetch_one(
                "SELECT (SELECT count(*) FROM findings WHERE tenant_id = $1), \
                        (SELECT count(*) FROM findings WHERE tenant_id = $1 AND lifecycle_version IS NULL)",
                args![job.tenant_id],
            )
            .await?;
        // Nothing pending: no chunk at all (fan-out over idle tenants).
        let updated = match job.db.backend() {
            _ if pending == 0 => 0,
            Backend::Postgres => chunks_in_database(job).await?,
            Backend::Sqlite => chunks(job).await?,
        };
        let failures: Vec<ItemFailure> = if updated < pending {
            job.db
                .fetch_all::<Unmappable>(
                    &format!(
                        "SELECT id, legacy_state, severity FROM findings \
                         WHERE tenant_id = $1 AND lifecycle_version IS NULL AND NOT ({MAPPABLE}) \
                         ORDER BY id"
                    ),
                    args![job.tenant_id],
                )
                .await?
                .into_iter()
                .map(unmappable_failure)
                .collect()
        } else {
            Vec::new()
        };
        Ok(TenantResult {
            items_in_target_state: total - pending + updated,
            items_failed: failures.len() as i64,
            failures,
        })
    }
}

/// The chunk loop, one transaction per chunk; returns the items updated.
async fn chunks(job: &TenantJob) -> Result<i64, JobError> {
    let mut cursor = 0i64;
    let mut updated_total = 0i64;
    loop {
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
            return Ok(updated_total);
        };
        let mut tx = job.db.begin_relaxed().await?;
        let updated = tx
            .execute(CHUNK_SQLITE, args![job.tenant_id, cursor, last])
            .await? as i64;
        job.commit_chunk(tx, updated).await?;
        updated_total += updated;
        cursor = last;
        if size < job.chunk_size {
            return Ok(updated_total);
        }
    }
}

/// The same loop as [`chunks`], run by the database in one call
/// (`migrations/postgres/0009`): the same chunks, transactions and progress,
/// without a round trip per statement. The procedure checks the job's lease
/// before each chunk, so a lost lease stops it even while the call runs.
async fn chunks_in_database(job: &TenantJob) -> Result<i64, JobError> {
    if job.should_stop() {
        return Err(JobError::Stopped);
    }
    let (updated, stopped): (i64, bool) = job
        .db
        .fetch_one(
            "CALL backfill_findings_lifecycle_tenant($1, $2, $3, $4, $5, NULL, NULL)",
            args![
                job.run_id,
                job.tenant_id,
                job.lease.job_id,
                job.lease.owner.as_str(),
                job.chunk_size
            ],
        )
        .await?;
    if stopped {
        return Err(JobError::Stopped);
    }
    Ok(updated)
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
