//! Statements of the job queue and the per-tenant lock table.
//!
//! Queue and lock times are epoch milliseconds from the service's clock, so
//! one statement serves both backends and tests can move time.

use crate::args;
use crate::storage::{Db, Tx};

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
}

const RETURNING: &str = "RETURNING id, kind, run_id, tenant_id, payload, attempts, max_attempts, last_error";

/// Claims one job: first one whose worker died (lease expired), else the
/// oldest ready one. PostgreSQL skips rows other workers hold; SQLite runs
/// the single UPDATE under its write lock. Either way no job goes to two
/// workers at once.
pub async fn claim(db: &Db, owner: &str, now_ms: i64, lease_ms: i64) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let set = "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
               lease_until_ms = $2, updated_at_ms = $3";
    let expired = db.pick(
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms LIMIT 1",
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms LIMIT 1 \
         FOR UPDATE SKIP LOCKED",
    );
    let ready = db.pick(
        "SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 ORDER BY run_at_ms, id LIMIT 1",
        "SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 ORDER BY run_at_ms, id LIMIT 1 \
         FOR UPDATE SKIP LOCKED",
    );
    let until = now_ms + lease_ms;
    let reclaimed = db
        .fetch_optional::<ClaimedJob>(
            &format!(
                "{set} WHERE id = ({expired}) AND status = 'running' AND lease_until_ms < $3 {RETURNING}"
            ),
            args![owner, until, now_ms],
        )
        .await?;
    if reclaimed.is_some() {
        return Ok(reclaimed);
    }
    db.fetch_optional::<ClaimedJob>(
        &format!("{set} WHERE id = ({ready}) AND status = 'queued' {RETURNING}"),
        args![owner, until, now_ms],
    )
    .await
}

/// Extends a job's lease while its owner still holds it.
pub async fn renew(db: &Db, job_id: i64, owner: &str, until_ms: i64, now_ms: i64) -> Result<bool, sqlx::Error> {
    Ok(db
        .execute(
            "UPDATE jobs SET lease_until_ms = $3, updated_at_ms = $4 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            args![job_id, owner, until_ms, now_ms],
        )
        .await?
        == 1)
}

/// Ends a job the owner still holds (`done`, `dead` or `cancelled`).
pub async fn finish(
    tx: &mut Tx,
    job_id: i64,
    owner: &str,
    status: &str,
    error: Option<String>,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(tx
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
    db: &Db,
    job_id: i64,
    owner: &str,
    run_at_ms: i64,
    error: Option<String>,
    refund: bool,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    Ok(db
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
    tx: &mut Tx,
    kind: &str,
    run_id: Option<i64>,
    tenant_id: Option<i64>,
    payload: &str,
    run_at_ms: i64,
    max_attempts: i64,
) -> Result<i64, sqlx::Error> {
    tx.scalar::<i64>(
        "INSERT INTO jobs (kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms, \
             created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6) RETURNING id",
        args![kind, run_id, tenant_id, payload, max_attempts, run_at_ms],
    )
    .await
}

/// Jobs ready or waiting to run.
pub async fn depth(db: &Db) -> Result<i64, sqlx::Error> {
    db.scalar("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')", args![]).await
}

/// Takes the tenant's lease, or renews it for its owner, unless another
/// owner's lease is still alive.
pub async fn lock_tenant(
    db: &Db,
    tenant_id: i64,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool, sqlx::Error> {
    let row = db
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

pub async fn renew_tenant_lock(db: &Db, tenant_id: i64, owner: &str, until_ms: i64) -> Result<bool, sqlx::Error> {
    Ok(db
        .execute(
            "UPDATE tenant_locks SET expires_at_ms = $3 WHERE tenant_id = $1 AND owner = $2",
            args![tenant_id, owner, until_ms],
        )
        .await?
        == 1)
}

pub async fn unlock_tenant(db: &Db, tenant_id: i64, owner: &str) -> Result<(), sqlx::Error> {
    db.execute("DELETE FROM tenant_locks WHERE tenant_id = $1 AND owner = $2", args![tenant_id, owner]).await?;
    Ok(())
}
