//! Statements of the job queue: jobs, their leases and their kinds. The
//! queue knows no run, tenant or lock: the runs' statements over their jobs
//! are in `storage::runs::jobs`, tenant locks in `storage::tenant_locks`.
//!
//! Queue times are epoch milliseconds from the service's clock, so one
//! statement serves both backends and tests can move time. Every statement
//! that ends or puts back a job names its lease owner and a `running`
//! status: a worker whose lease passed on changes nothing.

use crate::args;
use crate::domain::{JobKind, JobStatus};
use crate::storage::{Backend, Exec, id_list, in_id_list};

mod wake;

pub(crate) use wake::notify_enqueued;
pub use wake::{CommitProbe, JOBS_CHANNEL, JobListener, anything_to_claim};

/// A claimed job's row, as the executor hands it to its kind's handler.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// This claim's attempt, counting it (1 for the first).
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
}

const RETURNING: &str = "RETURNING id, kind, payload, attempts, max_attempts, last_error";

/// The `SET` of a claim: running under `owner` ($1) until $2, one attempt
/// more, at $3.
const CLAIM_SET: &str = "UPDATE jobs SET status = 'running', attempts = attempts + 1, \
     lease_owner = $1, lease_until_ms = $2, updated_at_ms = $3";

/// `select` taking the rows it reads: on PostgreSQL it skips rows other
/// workers hold and locks the rest; SQLite's one writer needs neither.
fn skipping_locked(ex: &impl Exec, select: &str) -> String {
    match ex.backend() {
        Backend::Sqlite => select.to_owned(),
        Backend::Postgres => format!("{select} FOR UPDATE SKIP LOCKED"),
    }
}

/// Claims one job: the oldest ready one or one whose worker died (lease
/// expired); `expired_first` says which to look for first. PostgreSQL skips
/// rows other workers hold; SQLite runs the single UPDATE under its write
/// lock. Either way no job goes to two workers at once.
pub async fn claim(
    ex: &mut impl Exec,
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    expired_first: bool,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    let expired = skipping_locked(
        ex,
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms LIMIT 1",
    );
    let ready = skipping_locked(
        ex,
        "SELECT id FROM jobs WHERE status IN ('available', 'retryable') AND run_at_ms <= $3 \
         ORDER BY run_at_ms, id LIMIT 1",
    );
    let reclaim = format!(
        "{CLAIM_SET} WHERE id = ({expired}) AND status = 'running' AND lease_until_ms < $3 {RETURNING}"
    );
    let take = format!(
        "{CLAIM_SET} WHERE id = ({ready}) AND status IN ('available', 'retryable') {RETURNING}"
    );
    let (first, second) = if expired_first {
        (reclaim, take)
    } else {
        (take, reclaim)
    };
    let until = now_ms + lease_ms;
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

/// Claims up to `limit` ready jobs of `kind` for one owner, in one statement
/// (the oldest first), sorted by id. Expired leases are left to [`claim`].
pub async fn claim_many(
    ex: &mut impl Exec,
    kind: JobKind,
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let pick = skipping_locked(
        ex,
        "SELECT id FROM jobs WHERE status IN ('available', 'retryable') AND run_at_ms <= $3 AND kind = $5 \
         ORDER BY run_at_ms, id LIMIT $4",
    );
    let matches = ex.pick("id IN(", "id = ANY(ARRAY(");
    let close = ex.pick(")", "))");
    let sql = format!(
        "{CLAIM_SET} WHERE {matches}{pick}{close} AND status IN ('available', 'retryable') {RETURNING}"
    );
    let mut jobs: Vec<ClaimedJob> = ex
        .fetch_all(
            &sql,
            args![owner, now_ms + lease_ms, now_ms, limit, kind.as_str()],
        )
        .await?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
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

/// Extends the leases of every running job of `owner`; returns how many.
pub async fn renew_all(
    ex: &mut impl Exec,
    owner: &str,
    until_ms: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    // In id order on PostgreSQL, as the record of a claim takes them (the one
    // lock order, docs/architecture.md).
    let sql = ex.pick(
        "UPDATE jobs SET lease_until_ms = $2, updated_at_ms = $3 WHERE lease_owner = $1 AND status = 'running'",
        "UPDATE jobs SET lease_until_ms = $2, updated_at_ms = $3 \
         WHERE id = ANY(ARRAY(SELECT id FROM jobs WHERE lease_owner = $1 AND status = 'running' \
             ORDER BY id FOR UPDATE)) AND lease_owner = $1 AND status = 'running'",
    );
    ex.execute(sql, args![owner, until_ms, now_ms]).await
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

/// How a held job leaves `running`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leave {
    /// Ended: `completed`, `discarded` or `cancelled`, with the error and
    /// reason to keep.
    End {
        status: JobStatus,
        error: Option<String>,
        reason: Option<String>,
    },
    /// Back to wait until `run_at_ms`: `retryable` after a failed attempt,
    /// or `available` again (snoozed: the attempt is given back).
    Wait {
        status: JobStatus,
        run_at_ms: i64,
        error: Option<String>,
        reason: Option<String>,
    },
}

/// Moves a job `owner` still holds out of `running`. False: the lease passed
/// to another worker, and nothing changed.
pub async fn leave(
    ex: &mut impl Exec,
    job_id: i64,
    owner: &str,
    how: &Leave,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    let (status, run_at_ms, error, reason) = match how {
        Leave::End {
            status,
            error,
            reason,
        } => (status, None, error, reason),
        Leave::Wait {
            status,
            run_at_ms,
            error,
            reason,
        } => (status, Some(*run_at_ms), error, reason),
    };
    // A snoozed job gets its attempt back: waiting is not its failure.
    let refund = i64::from(*status == JobStatus::Available);
    let n = ex
        .execute(
            "UPDATE jobs SET status = $3, run_at_ms = COALESCE($4, run_at_ms), \
                 last_error = COALESCE($5, last_error), reason = $6, attempts = attempts - $7, \
                 lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $8 \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            args![
                job_id,
                owner,
                status.as_str(),
                run_at_ms,
                error.clone(),
                reason.clone(),
                refund,
                now_ms
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Completes the listed jobs where `owner` still holds them; returns the
/// ids it completed.
pub async fn complete_many(
    ex: &mut impl Exec,
    ids: &[i64],
    owner: &str,
    now_ms: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let listed = in_id_list(ex.backend(), "id", "$1");
    // PostgreSQL locks them in id order first (the one lock order).
    let rows = match ex.backend() {
        Backend::Sqlite => listed,
        Backend::Postgres => format!(
            "id = ANY(ARRAY(SELECT id FROM jobs WHERE {listed} AND lease_owner = $2 \
             AND status = 'running' ORDER BY id FOR UPDATE))"
        ),
    };
    let sql = format!(
        "UPDATE jobs SET status = 'completed', reason = NULL, lease_owner = NULL, lease_until_ms = NULL, \
             updated_at_ms = $3 \
         WHERE {rows} AND lease_owner = $2 AND status = 'running' RETURNING id"
    );
    let rows: Vec<(i64,)> = ex
        .fetch_all(&sql, args![id_list(ids.iter().copied()), owner, now_ms])
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A job to enqueue: its kind, its serialized arguments, and the run and
/// tenant it belongs to (kept in columns so a run's jobs can be found).
#[derive(Debug, Clone, Copy)]
pub struct NewJob<'a> {
    pub kind: JobKind,
    pub payload: &'a str,
    pub run_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub run_at_ms: i64,
    pub max_attempts: i64,
}

/// Enqueues a job inside the caller's transaction; idle workers are woken
/// when it commits.
pub async fn enqueue(ex: &mut impl Exec, job: NewJob<'_>) -> Result<i64, sqlx::Error> {
    let id = ex.fetch_one::<(i64,)>(
        "INSERT INTO jobs (kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms, \
             created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, 'available', 0, $5, $6, $6, $6) RETURNING id",
        args![
            job.kind.as_str(),
            job.run_id,
            job.tenant_id,
            job.payload,
            job.max_attempts,
            job.run_at_ms
        ],
    )
    .await?;
    notify_enqueued(ex).await?;
    Ok(id.0)
}

/// Jobs waiting or running.
pub async fn depth(ex: &mut impl Exec) -> Result<i64, sqlx::Error> {
    ex.fetch_one::<(i64,)>(
        "SELECT count(*) FROM jobs WHERE status IN ('available', 'retryable', 'running')",
        args![],
    )
    .await
    .map(|r| r.0)
}

/// When a waiting job runs next (`None` once it no longer waits).
pub async fn next_run_at_ms(ex: &mut impl Exec, job_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = ex
        .fetch_optional(
            "SELECT run_at_ms FROM jobs WHERE id = $1 AND status IN ('available', 'retryable')",
            args![job_id],
        )
        .await?;
    Ok(row.map(|r| r.0))
}
