//! The runs' statements over their jobs: a run's fan-out (one job per
//! tenant row, in the transaction that creates the run), the reads of a
//! claimed tenant job's run and tenant, and the moves of a run's waiting
//! jobs when it is stopped, resumed or its cap frees a slot.

use crate::args;
use crate::domain::JobKind;
use crate::storage::queue::notify_enqueued;
use crate::storage::{Backend, Exec, id_list, in_id_list};

/// Enqueues one job per tenant row of the run (the fan-out), set-based,
/// inside the transaction that created the run. Each job's arguments are
/// its run and tenant (`{"run_id":…,"tenant_id":…}`).
pub async fn enqueue_per_run_tenant(
    ex: &mut impl Exec,
    kind: JobKind,
    run_id: i64,
    max_attempts: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let payload = ex.pick(
        "json_object('run_id', run_id, 'tenant_id', tenant_id)",
        "json_build_object('run_id', run_id, 'tenant_id', tenant_id)::text",
    );
    let n = ex
        .execute(
            &format!(
                "INSERT INTO jobs (kind, run_id, tenant_id, payload, status, attempts, max_attempts, run_at_ms, \
                     created_at_ms, updated_at_ms) \
                 SELECT $4, run_id, tenant_id, {payload}, 'available', 0, $2, $3, $3, $3 \
                 FROM operation_run_tenants WHERE run_id = $1 ORDER BY tenant_id"
            ),
            args![run_id, max_attempts, now_ms, kind.as_str()],
        )
        .await?;
    notify_enqueued(ex).await?;
    Ok(n)
}

/// What a claimed tenant job works on, read in its claim's transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantJobSubject {
    pub job_id: i64,
    /// The run's runbook and status (null when the run is gone).
    pub run_type: Option<String>,
    pub run_status: Option<String>,
    /// The tenant's workspace (null when the tenant is gone).
    pub workspace_id: Option<i64>,
}

/// The runs and tenants of the listed jobs, in one statement.
pub async fn subjects(
    ex: &mut impl Exec,
    job_ids: &[i64],
) -> Result<Vec<TenantJobSubject>, sqlx::Error> {
    let sql = format!(
        "SELECT j.id AS job_id, r.type AS run_type, r.status AS run_status, t.workspace_id \
         FROM jobs j LEFT JOIN operation_runs r ON r.id = j.run_id \
         LEFT JOIN tenants t ON t.id = j.tenant_id WHERE {}",
        in_id_list(ex.backend(), "j.id", "$1")
    );
    ex.fetch_all(&sql, args![id_list(job_ids.iter().copied())])
        .await
}

/// The condition "a waiting job of run `$1` matching `filter`", on
/// PostgreSQL with the rows locked first in id order: a control waits for
/// jobs a claim holds, and two controls over one run must not take its jobs
/// in different orders (the one lock order, docs/architecture.md).
fn waiting_of_run(ex: &impl Exec, filter: &str) -> String {
    let waiting = format!("run_id = $1 AND status IN ('available', 'retryable') {filter}");
    match ex.backend() {
        Backend::Sqlite => waiting,
        Backend::Postgres => format!(
            "id = ANY(ARRAY(SELECT id FROM jobs WHERE {waiting} ORDER BY id FOR UPDATE)) \
             AND status IN ('available', 'retryable')"
        ),
    }
}

/// Drops a run's jobs that have not started; a running one sees its run
/// completed and stops by itself.
pub async fn cancel_waiting(
    ex: &mut impl Exec,
    run_id: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let waiting = waiting_of_run(ex, "");
    ex.execute(
        &format!(
            "UPDATE jobs SET status = 'cancelled', reason = 'run.stopped', updated_at_ms = $2 WHERE {waiting}"
        ),
        args![run_id, now_ms],
    )
    .await
}

/// Makes a run's waiting jobs ready now (a resumed run's tenants, or a
/// capped run's waiting ones after its cap was raised).
pub async fn wake_waiting(
    ex: &mut impl Exec,
    run_id: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    let waiting = waiting_of_run(ex, "AND run_at_ms > $2");
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
pub async fn wake_next(ex: &mut impl Exec, run_id: i64, now_ms: i64) -> Result<u64, sqlx::Error> {
    let next = ex.pick(
        "SELECT id FROM jobs WHERE run_id = $1 AND status IN ('available', 'retryable') AND run_at_ms > $2 \
         ORDER BY run_at_ms, id LIMIT 1",
        "SELECT id FROM jobs WHERE run_id = $1 AND status IN ('available', 'retryable') AND run_at_ms > $2 \
         ORDER BY run_at_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    );
    ex.execute(
        &format!("UPDATE jobs SET run_at_ms = $2, updated_at_ms = $2 WHERE id = ({next})"),
        args![run_id, now_ms],
    )
    .await
}
