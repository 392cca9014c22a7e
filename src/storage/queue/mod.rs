//! Statements of the job queue and the per-tenant lock table.
//!
//! Queue and lock times are epoch milliseconds from the service's clock, so
//! one statement serves both backends and tests can move time.

use crate::args;
use crate::domain::{JobKind, JobStatus};
use crate::storage::Exec;

mod batch;
mod wake;

pub use batch::*;
use wake::notify_enqueued;
pub use wake::{CommitProbe, JOBS_CHANNEL, JobListener, anything_to_claim};

/// A claimed job's row. The run's type and status and the tenant's workspace
/// are read with the claim (to spare a tenant job a round trip); the engine
/// passes them on to the job's handler without looking at them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub run_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    /// The run's runbook and status, and the tenant's workspace (null when
    /// the run or tenant is gone), read with the claim to spare a round trip.
    pub run_type: Option<String>,
    pub run_status: Option<String>,
    pub tenant_workspace_id: Option<i64>,
}

const RETURNING: &str = "RETURNING id, kind, run_id, tenant_id, payload, attempts, max_attempts, last_error, \
     (SELECT r.type FROM operation_runs r WHERE r.id = jobs.run_id) AS run_type, \
     (SELECT r.status FROM operation_runs r WHERE r.id = jobs.run_id) AS run_status, \
     (SELECT t.workspace_id FROM tenants t WHERE t.id = jobs.tenant_id) AS tenant_workspace_id";

/// Claims one job: the oldest ready one or one whose worker died (lease
/// expired); `expired_first` says which to look for first. PostgreSQL skips rows other workers hold; SQLite runs
/// the single UPDATE under its write lock. Either way no job goes to two
/// workers at once.
pub async fn claim(
    ex: &mut impl Exec,
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    expired_first: bool,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let set = "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
               lease_until_ms = $2, updated_at_ms = $3";
    let expired = ex.pick(
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms LIMIT 1",
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms LIMIT 1 \
         FOR UPDATE SKIP LOCKED",
    );
    let ready = ex.pick(
        "SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 ORDER BY run_at_ms, id LIMIT 1",
        "SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 ORDER BY run_at_ms, id LIMIT 1 \
         FOR UPDATE SKIP LOCKED",
    );
    let until = now_ms + lease_ms;
    let reclaim = format!(
        "{set} WHERE id = ({expired}) AND status = 'running' AND lease_until_ms < $3 {RETURNING}"
    );
    let take = format!("{set} WHERE id = ({ready}) AND status = 'queued' {RETURNING}");
    let (first, second) = if expired_first {
        (reclaim, take)
    } else {
        (take, reclaim)
    };
    match ex
        .fetch_optional::<ClaimedJob>(&first, args![owner, until, now_ms])
        .await?
    {
        Some(job) => Ok(Some(job)),
        None => {
            ex.fetch_optional::<ClaimedJob>(&second, args![owner, until, now_ms])
                .await
        }
    }
}

/// Extends a job's lease while its owner still holds it.
pub async fn renew(
    ex: &mut impl Exec,
    job_id: i64,
    owner: &str,
    until_ms: i64,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(ex
        .execute(
            "UPDATE jobs SET lease_until_ms = $3, updated_at_ms = $4 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            args![job_id, owner, until_ms, now_ms],
        )
        .await?
        == 1)
}

/// Whether `owner` still holds the running job; until the transaction ends
/// nobody can take it over (SQLite's write transactions are `BEGIN
/// IMMEDIATE`; PostgreSQL's claim skips the row this locks, while the
/// heartbeat still renews it).
pub async fn holds(ex: &mut impl Exec, job_id: i64, owner: &str) -> Result<bool, sqlx::Error> {
    let sql = ex.pick(
        "SELECT id FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        "SELECT id FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running' FOR KEY SHARE",
    );
    let row: Option<(i64,)> = ex.fetch_optional(sql, args![job_id, owner]).await?;
    Ok(row.is_some())
}

/// Ends a job the owner still holds (`done`, `dead` or `cancelled`).
pub async fn finish(
    ex: &mut impl Exec,
    job_id: i64,
    owner: &str,
    status: JobStatus,
    error: Option<String>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let status = status.as_str();
    Ok(ex
        .execute(
            "UPDATE jobs SET status = $3, last_error = COALESCE($4, last_error), lease_owner = NULL, \
                 lease_until_ms = NULL, updated_at_ms = $5 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            args![job_id, owner, status, error, now_ms],
        )
        .await?
        == 1)
}

/// Puts a job back in the queue for later. `refund` gives the attempt back
/// (a busy tenant is not the job's failure).
pub async fn requeue(
    ex: &mut impl Exec,
    job_id: i64,
    owner: &str,
    run_at_ms: i64,
    error: Option<String>,
    refund: bool,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(ex
        .execute(
            "UPDATE jobs SET status = 'queued', run_at_ms = $3, last_error = COALESCE($4, last_error), \
                 attempts = attempts - $5, lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $6 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            args![job_id, owner, run_at_ms, error, if refund { 1i64 } else { 0 }, now_ms],
        )
        .await?
        == 1)
}

/// Enqueues a job inside the caller's transaction.
pub async fn enqueue(
    ex: &mut impl Exec,
    kind: JobKind,
    run_id: Option<i64>,
    tenant_id: Option<i64>,
    payload: &str,
    run_at_ms: i64,
    max_attempts: i64,
) -> Result<i64, sqlx::Error> {
    let id = ex.fetch_one::<(i64,)>(
        "INSERT INTO jobs (kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms, \
             created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6) RETURNING id",
        args![kind.as_str(), run_id, tenant_id, payload, max_attempts, run_at_ms],
    )
    .await?;
    notify_enqueued(ex).await?;
    Ok(id.0)
}

/// Enqueues one job per tenant row of the run (the fan-out), set-based,
/// inside the transaction that created the run.
pub async fn enqueue_per_run_tenant(
    ex: &mut impl Exec,
    kind: JobKind,
    run_id: i64,
    max_attempts: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let n = ex.execute(
        "INSERT INTO jobs (kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms, created_at_ms, updated_at_ms) \
         SELECT $4, run_id, tenant_id, '{}', 'queued', 0, $2, $3, $3, $3 \
         FROM operation_run_tenants WHERE run_id = $1 ORDER BY tenant_id",
        args![run_id, max_attempts, now_ms, kind.as_str()],
    )
    .await?;
    notify_enqueued(ex).await?;
    Ok(n)
}

/// The condition "a queued job of run `$1` matching `filter`", on
/// PostgreSQL with the rows locked first in id order: a control waits for
/// jobs a claim holds, and two controls over one run must not take its jobs
/// in different orders (the one lock order, docs/architecture.md).
fn queued_of_run(ex: &impl Exec, filter: &str) -> String {
    let queued = format!("run_id = $1 AND status = 'queued' {filter}");
    match ex.backend() {
        crate::storage::Backend::Sqlite => queued,
        crate::storage::Backend::Postgres => format!(
            "id = ANY(ARRAY(SELECT id FROM jobs WHERE {queued} ORDER BY id FOR UPDATE)) \
             AND status = 'queued'"
        ),
    }
}

/// Drops a run's jobs that have not started; a running one sees its run
/// completed and stops by itself.
pub async fn cancel_queued_of_run(
    ex: &mut impl Exec,
    run_id: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let queued = queued_of_run(ex, "");
    ex.execute(
        &format!("UPDATE jobs SET status = 'cancelled', updated_at_ms = $2 WHERE {queued}"),
        args![run_id, now_ms],
    )
    .await
}

/// Jobs ready or waiting to run.
pub async fn depth(ex: &mut impl Exec) -> Result<i64, sqlx::Error> {
    ex.fetch_one::<(i64,)>(
        "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')",
        args![],
    )
    .await
    .map(|r| r.0)
}

/// Takes the tenant's lease, or renews it for its owner, unless another
/// owner's lease is still alive.
pub async fn lock_tenant(
    ex: &mut impl Exec,
    tenant_id: i64,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool, sqlx::Error> {
    let row = ex
        .fetch_optional::<(String,)>(
            "INSERT INTO tenant_locks (tenant_id, owner, expires_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms \
             WHERE tenant_locks.expires_at_ms < $4 OR tenant_locks.owner = excluded.owner \
             RETURNING owner",
            args![tenant_id, owner, until_ms, now_ms],
        )
        .await?;
    Ok(row.is_some())
}

pub async fn renew_tenant_lock(
    ex: &mut impl Exec,
    tenant_id: i64,
    owner: &str,
    until_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(ex
        .execute(
            "UPDATE tenant_locks SET expires_at_ms = $3 WHERE tenant_id = $1 AND owner = $2",
            args![tenant_id, owner, until_ms],
        )
        .await?
        == 1)
}

pub async fn unlock_tenant(
    ex: &mut impl Exec,
    tenant_id: i64,
    owner: &str,
) -> Result<(), sqlx::Error> {
    ex.execute(
        "DELETE FROM tenant_locks WHERE tenant_id = $1 AND owner = $2",
        args![tenant_id, owner],
    )
    .await?;
    Ok(())
}

/// Makes a run's queued jobs ready now (a resumed run's tenants, or a
/// capped run's waiting ones after its cap was raised).
pub async fn wake_queued_of_run(
    ex: &mut impl Exec,
    run_id: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let waiting = queued_of_run(ex, "AND run_at_ms > $2");
    let n = ex
        .execute(
            &format!("UPDATE jobs SET run_at_ms = $2, updated_at_ms = $2 WHERE {waiting}"),
            args![run_id, now_ms],
        )
        .await?;
    notify_enqueued(ex).await?;
    Ok(n)
}

/// Makes the run's next waiting job ready now (a slot of its cap freed).
/// Jobs other workers are claiming are skipped, not waited for.
pub async fn wake_next_of_run(
    ex: &mut impl Exec,
    run_id: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let next = ex.pick(
        "SELECT id FROM jobs WHERE run_id = $1 AND status = 'queued' AND run_at_ms > $2 \
         ORDER BY run_at_ms, id LIMIT 1",
        "SELECT id FROM jobs WHERE run_id = $1 AND status = 'queued' AND run_at_ms > $2 \
         ORDER BY run_at_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    );
    ex.execute(
        &format!("UPDATE jobs SET run_at_ms = $2, updated_at_ms = $2 WHERE id = ({next})"),
        args![run_id, now_ms],
    )
    .await
}

/// When a queued job runs next (`None` once it is no longer queued).
pub async fn queued_run_at_ms(ex: &mut impl Exec, job_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = ex
        .fetch_optional(
            "SELECT run_at_ms FROM jobs WHERE id = $1 AND status = 'queued'",
            args![job_id],
        )
        .await?;
    Ok(row.map(|r| r.0))
}
