//! Statements of the per-tenant lock table: a tenant's lease, held by the
//! owner of the job that works on it and renewed with the job's lease, so
//! no two jobs work on one tenant at once.

use crate::args;
use crate::storage::{Backend, Exec, id_list, in_id_list};

/// Takes the listed (distinct) tenants' leases for `owner`, or renews them
/// where it holds them already, unless another owner's lease is still
/// alive; returns the tenants locked. In tenant order (the one lock order).
pub async fn lock(
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
pub async fn renew_of(ex: &mut impl Exec, owner: &str, until_ms: i64) -> Result<u64, sqlx::Error> {
    let sql = ex.pick(
        "UPDATE tenant_locks SET expires_at_ms = $2 WHERE owner = $1",
        "UPDATE tenant_locks SET expires_at_ms = $2 WHERE tenant_id = ANY(ARRAY(\
             SELECT tenant_id FROM tenant_locks WHERE owner = $1 ORDER BY tenant_id FOR UPDATE)) \
         AND owner = $1",
    );
    ex.execute(sql, args![owner, until_ms]).await
}

/// Releases the listed tenants' locks `owner` holds, in tenant order.
pub async fn unlock(
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
