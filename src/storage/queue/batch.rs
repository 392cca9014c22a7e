//! Statements of the queue that take several jobs or tenants at once: a
//! batch of claims under one owner, renewed, locked and ended together.

use super::{ClaimedJob, RETURNING};
use crate::args;
use crate::storage::{Backend, Exec};

/// A list of ids bound as one JSON text argument; both backends expand it to
/// rows (`json_each`, `jsonb_array_elements_text`).
pub fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    format!("[{}]", ids.join(","))
}

/// The condition "`column` is one of the ids of [`id_list`] bound as
/// `param`", in the backend's dialect. Both are literals of the caller,
/// never input.
pub fn in_id_list(backend: Backend, column: &str, param: &str) -> String {
    match backend {
        Backend::Sqlite => format!("{column} IN (SELECT value FROM json_each({param}))"),
        Backend::Postgres => format!(
            "{column} = ANY(ARRAY(SELECT v::bigint FROM jsonb_array_elements_text({param}::jsonb) v))"
        ),
    }
}

/// Claims up to `limit` ready jobs of `kind` for one owner, in one statement
/// (the oldest first). Expired leases are left to [`claim`].
pub async fn claim_many(
    ex: &mut impl Exec,
    kind: &str,
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    let pick = ex.pick(
        "SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 AND kind = $5 \
         ORDER BY run_at_ms, id LIMIT $4",
        "ARRAY(SELECT id FROM jobs WHERE status = 'queued' AND run_at_ms <= $3 AND kind = $5 \
         ORDER BY run_at_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED)",
    );
    let matches = ex.pick("id IN", "id = ANY");
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
         lease_until_ms = $2, updated_at_ms = $3 WHERE {matches}({pick}) AND status = 'queued' {RETURNING}"
    );
    let mut jobs: Vec<ClaimedJob> = ex
        .fetch_all(&sql, args![owner, now_ms + lease_ms, now_ms, limit, kind])
        .await?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Extends the leases of every running job of `owner`; returns how many.
pub async fn renew_all(
    ex: &mut impl Exec,
    owner: &str,
    until_ms: i64,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    // In id order, as the batch's end takes them (the one lock order).
    let sql = ex.pick(
        "UPDATE jobs SET lease_until_ms = $2, updated_at_ms = $3 WHERE lease_owner = $1 AND status = 'running'",
        "UPDATE jobs SET lease_until_ms = $2, updated_at_ms = $3 \
         WHERE id = ANY(ARRAY(SELECT id FROM jobs WHERE lease_owner = $1 AND status = 'running' \
             ORDER BY id FOR UPDATE)) AND lease_owner = $1 AND status = 'running'",
    );
    ex.execute(sql, args![owner, until_ms, now_ms]).await
}

/// Ends the listed jobs as done where `owner` still holds them; returns the
/// ids it ended.
pub async fn finish_many(
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
        "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $3 \
         WHERE {rows} AND lease_owner = $2 AND status = 'running' RETURNING id"
    );
    let rows: Vec<(i64,)> = ex
        .fetch_all(&sql, args![id_list(ids.iter().copied()), owner, now_ms])
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// [`lock_tenant`] for several distinct tenants under one owner, in tenant
/// order (the one lock order); returns the tenants locked.
pub async fn lock_tenants(
    ex: &mut impl Exec,
    tenant_ids: &[i64],
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = ex.pick(
        "INSERT INTO tenant_locks (tenant_id, owner, expires_at_ms) \
         SELECT value, $2, $3 FROM json_each($1) WHERE true \
         ON CONFLICT (tenant_id) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms \
         WHERE tenant_locks.expires_at_ms < $4 OR tenant_locks.owner = excluded.owner \
         RETURNING tenant_id",
        "INSERT INTO tenant_locks (tenant_id, owner, expires_at_ms) \
         SELECT v::bigint, $2, $3 FROM jsonb_array_elements_text($1::jsonb) v ORDER BY 1 \
         ON CONFLICT (tenant_id) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms \
         WHERE tenant_locks.expires_at_ms < $4 OR tenant_locks.owner = excluded.owner \
         RETURNING tenant_id",
    );
    let list = id_list(tenant_ids.iter().copied());
    let rows: Vec<(i64,)> = ex
        .fetch_all(sql, args![list, owner, until_ms, now_ms])
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Renews every tenant lock `owner` holds, in tenant order.
pub async fn renew_tenant_locks_of(
    ex: &mut impl Exec,
    owner: &str,
    until_ms: i64,
) -> Result<u64, sqlx::Error> {
    let sql = ex.pick(
        "UPDATE tenant_locks SET expires_at_ms = $2 WHERE owner = $1",
        "UPDATE tenant_locks SET expires_at_ms = $2 WHERE tenant_id = ANY(ARRAY(\
             SELECT tenant_id FROM tenant_locks WHERE owner = $1 ORDER BY tenant_id FOR UPDATE)) \
         AND owner = $1",
    );
    ex.execute(sql, args![owner, until_ms]).await
}

/// Releases the listed tenants' locks `owner` holds, in tenant order.
pub async fn unlock_tenants(
    ex: &mut impl Exec,
    tenant_ids: &[i64],
    owner: &str,
) -> Result<u64, sqlx::Error> {
    let listed = in_id_list(ex.backend(), "tenant_id", "$1");
    let sql = match ex.backend() {
        Backend::Sqlite => format!("DELETE FROM tenant_locks WHERE {listed} AND owner = $2"),
        Backend::Postgres => format!(
            "DELETE FROM tenant_locks WHERE tenant_id = ANY(ARRAY(SELECT tenant_id FROM tenant_locks \
             WHERE {listed} AND owner = $2 ORDER BY tenant_id FOR UPDATE)) AND owner = $2"
        ),
    };
    ex.execute(&sql, args![id_list(tenant_ids.iter().copied()), owner])
        .await
}
