//! Statements of a run's tenants: one row per (run, tenant), its result
//! recorded once, the run's counts moved with it, and the failures kept.

use chrono::{DateTime, Utc};

use crate::args;
use crate::domain::run::{NewRun, Scope, TenantResult};
use crate::storage::{Db, Tx};

/// At most this many failure rows are kept per tenant; the rest are summed up.
const FAILURES_PER_TENANT: usize = 20;

/// One row per tenant in scope, set-based. Returns the total.
pub async fn insert_run_tenants(
    tx: &mut Tx,
    run_id: i64,
    new: &NewRun,
) -> Result<i64, sqlx::Error> {
    let (filter, key) = match &new.context.scope {
        Scope::AllTenants => ("t.workspace_id = $2", new.workspace_id),
        Scope::Tenant { tenant_id, .. } => ("t.id = $2", *tenant_id),
        Scope::Tenants { retry_of, .. } => (
            "t.id IN (SELECT tenant_id FROM operation_run_tenants WHERE run_id = $2 AND state = 'failed')",
            *retry_of,
        ),
    };
    let total = tx
        .execute(
            &format!(
                "INSERT INTO operation_run_tenants (run_id, tenant_id, state) \
                 SELECT $1, t.id, 'pending' FROM tenants t WHERE {filter}"
            ),
            args![run_id, key],
        )
        .await? as i64;
    tx.execute(
        "UPDATE operation_runs SET total = $2 WHERE id = $1",
        args![run_id, total],
    )
    .await?;
    Ok(total)
}

pub async fn record_chunk(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    items: i64,
) -> Result<bool, sqlx::Error> {
    tx.execute(
        "UPDATE operation_run_tenants SET items_updated = items_updated + $3 \
         WHERE run_id = $1 AND tenant_id = $2 AND state IN ('pending', 'running')",
        args![run_id, tenant_id, items],
    )
    .await?;
    // The run row is touched last: it is the row every tenant job shares.
    let n = tx
        .execute(
            "UPDATE operation_runs SET items_updated = items_updated + $2 WHERE id = $1 AND status <> 'completed'",
            args![run_id, items],
        )
        .await?;
    Ok(n == 1)
}

/// Records the tenant's result if it has none yet. Returns whether it counted.
pub async fn finish_tenant(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    result: &TenantResult,
    now: DateTime<Utc>,
) -> Result<Counted, sqlx::Error> {
    let state = if result.succeeded() {
        "succeeded"
    } else {
        "failed"
    };
    let skipped = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_run_tenants SET state = $3, items_failed = $4, \
                 items_skipped = CASE WHEN $5 - items_updated > 0 THEN $5 - items_updated ELSE 0 END, \
                 finished_at = $6 \
             WHERE run_id = $1 AND tenant_id = $2 AND state IN ('pending', 'running') \
             RETURNING items_skipped",
            args![run_id, tenant_id, state, result.items_failed, result.items_in_target_state, now],
        )
        .await?;
    let Some((skipped,)) = skipped else {
        return Ok(Counted::No);
    };
    for failure in result.failures.iter().take(FAILURES_PER_TENANT) {
        insert_failure(
            tx,
            run_id,
            Some(tenant_id),
            &failure.reason_code,
            &failure.message,
            now,
        )
        .await?;
    }
    if result.failures.len() > FAILURES_PER_TENANT {
        let more = result.failures.len() - FAILURES_PER_TENANT;
        let code = &result.failures[FAILURES_PER_TENANT].reason_code;
        insert_failure(
            tx,
            run_id,
            Some(tenant_id),
            code,
            &format!("and {more} more failure(s) like these"),
            now,
        )
        .await?;
    }
    let (ok, failed): (i64, i64) = if result.succeeded() { (1, 0) } else { (0, 1) };
    count_on_run(tx, run_id, ok, failed, skipped, result.items_failed, now).await
}

/// Adds finished tenants to the run's counts and, for the last tenant,
/// completes the run: one statement on the row every tenant job shares, so
/// its lock is held briefly.
async fn count_on_run(
    tx: &mut Tx,
    run_id: i64,
    ok: i64,
    failed: i64,
    skipped: i64,
    items_failed: i64,
    now: DateTime<Utc>,
) -> Result<Counted, sqlx::Error> {
    let n = ok + failed;
    let status = tx
        .fetch_optional::<(String,)>(
            "UPDATE operation_runs SET processed = processed + $7, succeeded = succeeded + $2, \
                 failed = failed + $3, items_skipped = items_skipped + $4, items_failed = items_failed + $5, \
                 status = CASE WHEN processed + $7 >= total THEN 'completed' ELSE status END, \
                 completed_at = CASE WHEN processed + $7 >= total THEN $6 ELSE completed_at END, \
                 started_at = COALESCE(started_at, $6), \
                 outcome = CASE WHEN processed + $7 < total THEN outcome \
                                WHEN failed + $3 = 0 THEN 'succeeded' \
                                WHEN succeeded + $2 = 0 THEN 'failed' \
                                ELSE 'partially_succeeded' END \
             WHERE id = $1 AND status <> 'completed' RETURNING status",
            args![run_id, ok, failed, skipped, items_failed, now, n],
        )
        .await?;
    Ok(match status {
        Some((s,)) if s == "completed" => Counted::AndCompleted,
        _ => Counted::Yes,
    })
}

/// Records several tenants of one run that succeeded with nothing failed,
/// `(tenant_id, items_in_target_state)` each, set-based: what
/// [`finish_tenant`] does for each, in two statements. Tenants that already
/// have a result are left alone.
pub async fn finish_tenants_succeeded(
    tx: &mut Tx,
    run_id: i64,
    results: &[(i64, i64)],
    now: DateTime<Utc>,
) -> Result<Counted, sqlx::Error> {
    let list: Vec<String> = results.iter().map(|(t, n)| format!("[{t},{n}]")).collect();
    let list = format!("[{}]", list.join(","));
    let sql = tx.pick(
        "UPDATE operation_run_tenants SET state = 'succeeded', items_failed = 0, \
             items_skipped = CASE WHEN v.n - items_updated > 0 THEN v.n - items_updated ELSE 0 END, \
             finished_at = $3 \
         FROM (SELECT json_extract(value, '$[0]') AS t, json_extract(value, '$[1]') AS n FROM json_each($2)) AS v \
         WHERE run_id = $1 AND tenant_id = v.t AND state IN ('pending', 'running') \
         RETURNING items_skipped",
        "UPDATE operation_run_tenants SET state = 'succeeded', items_failed = 0, \
             items_skipped = CASE WHEN v.n - items_updated > 0 THEN v.n - items_updated ELSE 0 END, \
             finished_at = $3 \
         FROM (SELECT (e->>0)::bigint AS t, (e->>1)::bigint AS n FROM jsonb_array_elements($2::jsonb) e) AS v \
         WHERE run_id = $1 AND tenant_id = v.t AND state IN ('pending', 'running') \
         RETURNING items_skipped",
    );
    let rows: Vec<(i64,)> = tx.fetch_all(sql, args![run_id, list, now]).await?;
    if rows.is_empty() {
        return Ok(Counted::No);
    }
    let skipped = rows.iter().map(|(s,)| s).sum();
    count_on_run(tx, run_id, rows.len() as i64, 0, skipped, 0, now).await
}

/// Whether a tenant's result counted, and whether it completed the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    No,
    Yes,
    AndCompleted,
}

async fn insert_failure(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: Option<i64>,
    reason_code: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        "INSERT INTO operation_run_failures (run_id, tenant_id, reason_code, message, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        args![run_id, tenant_id, reason_code, message, now],
    )
    .await
    .map(|_| ())
}

pub async fn tenants_in_state(db: &Db, run_id: i64, state: &str) -> Result<Vec<i64>, sqlx::Error> {
    let rows = db
        .fetch_all::<(i64,)>(
            "SELECT tenant_id FROM operation_run_tenants WHERE run_id = $1 AND state = $2 ORDER BY tenant_id",
            args![run_id, state],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
