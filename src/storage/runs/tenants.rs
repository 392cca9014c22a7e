//! Statements of a run's tenants: one row per (run, tenant), its result
//! recorded once, the run's counts moved with it, and the failures kept.

use chrono::{DateTime, Utc};

use crate::args;
use crate::domain::run::{NewRun, Scope, TenantResult};
use crate::domain::run_tenants::TenantState;
use crate::storage::{Backend, Db, Tx};

/// The condition "a tenant row of run `$1` matching `filter`" for a
/// statement that changes several of them: on PostgreSQL the rows are locked
/// first, in tenant order (the one lock order, docs/architecture.md), since
/// a plan reads rows in no promised order; SQLite lets one writer in at a
/// time. The caller repeats in its own condition what must still hold.
pub fn tenant_rows_in_order(backend: Backend, filter: &str) -> String {
    match backend {
        Backend::Sqlite => format!("run_id = $1 AND {filter}"),
        Backend::Postgres => format!(
            "run_id = $1 AND tenant_id = ANY(ARRAY(SELECT tenant_id FROM operation_run_tenants \
             WHERE run_id = $1 AND {filter} ORDER BY tenant_id FOR UPDATE))"
        ),
    }
}

/// At most this many failure rows are kept per tenant; the rest are summed up.
const FAILURES_PER_TENANT: usize = 20;

/// One row per tenant in scope, set-based, with the items the preflight
/// expects of it. Returns the total.
pub async fn insert_run_tenants(
    tx: &mut Tx,
    run_id: i64,
    new: &NewRun,
) -> Result<i64, sqlx::Error> {
    let retry_filter;
    let (filter, key) = match &new.context.scope {
        Scope::AllTenants => ("t.workspace_id = $2", new.workspace_id),
        Scope::Tenant { tenant_id, .. } => ("t.id = $2", *tenant_id),
        Scope::Tenants {
            retry_of, states, ..
        } => {
            // The states are the domain's own words, never a door's text.
            let states: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            retry_filter = format!(
                "t.id IN (SELECT tenant_id FROM operation_run_tenants WHERE run_id = $2 AND state IN ({}))",
                states.join(", ")
            );
            (retry_filter.as_str(), *retry_of)
        }
    };
    let expected: Option<i64> = new.expected.as_ref().map(|_| 0);
    let total = tx
        .execute(
            &format!(
                "INSERT INTO operation_run_tenants (run_id, tenant_id, state, items_expected) \
                 SELECT $1, t.id, 'queued', $3 FROM tenants t WHERE {filter}"
            ),
            args![run_id, key, expected],
        )
        .await? as i64;
    let mut items_expected = None;
    if let Some(per_tenant) = &new.expected {
        for chunk in per_tenant.chunks(400) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 + 2 * i, 3 + 2 * i))
                .collect();
            let mut a = args![run_id];
            for (tenant_id, items) in chunk {
                a.push((*tenant_id).into());
                a.push((*items).into());
            }
            tx.execute(
                &format!(
                    "UPDATE operation_run_tenants SET items_expected = v.column2 \
                     FROM (VALUES {}) AS v WHERE run_id = $1 AND tenant_id = v.column1",
                    values.join(", ")
                ),
                a,
            )
            .await?;
        }
        let sum = tx
            .scalar::<Option<i64>>(
                "SELECT CAST(SUM(items_expected) AS BIGINT) FROM operation_run_tenants WHERE run_id = $1",
                args![run_id],
            )
            .await?
            .unwrap_or(0);
        items_expected = Some(sum);
    }
    tx.execute(
        "UPDATE operation_runs SET total = $2, items_expected = $3 WHERE id = $1",
        args![run_id, total, items_expected],
    )
    .await?;
    Ok(total)
}

/// A run this large is a planner's blind spot until its tables are analysed
/// again: a new `run_id` the statistics have never seen is guessed to have
/// a few dozen tenants, so a View run page of 10,000 tenants is sorted in
/// full rather than read from an index; and 10,000 queued jobs in a table
/// the statistics saw empty make every claim read and sort all of them
/// rather than take the first few from the ready index. PostgreSQL's
/// autovacuum would analyse them within a minute; a run that is a large
/// share of a table gets it done now (about 10 ms a table for 10,000
/// tenants; a large table is sampled, not read whole). Never fails the
/// run's start: a busy table is left to autovacuum.
pub async fn refresh_statistics(db: &Db, tenants: i64) {
    const LARGE_RUN: i64 = 1_000;
    if tenants < LARGE_RUN || db.backend() != Backend::Postgres {
        return;
    }
    for table in ["operation_run_tenants", "jobs"] {
        if let Err(e) = analyse_if_outgrown(db, table, tenants).await {
            tracing::warn!(table, error = %e, "analysing a table after a large run's start failed");
        }
    }
}

/// `ANALYZE table` when `added` rows are over a tenth of what its
/// statistics last saw (autovacuum's own default threshold, applied at once
/// instead of up to a minute later). `table` is one of ours, never input.
async fn analyse_if_outgrown(db: &Db, table: &'static str, added: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let (known,): (f64,) = tx
        .fetch_one(
            "SELECT GREATEST(reltuples, 0)::float8 FROM pg_class WHERE oid = $1::regclass",
            args![table],
        )
        .await?;
    if known < 10.0 * added as f64 {
        tx.execute("SET LOCAL lock_timeout = '2s'", args![]).await?;
        tx.execute(&format!("ANALYZE {table}"), args![]).await?;
    }
    tx.commit().await
}

pub async fn record_chunk(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    items: i64,
) -> Result<bool, sqlx::Error> {
    tx.execute(
        "UPDATE operation_run_tenants SET items_updated = items_updated + $3 \
         WHERE run_id = $1 AND tenant_id = $2 AND state IN ('queued', 'running')",
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
    let first = result.failures.first();
    let skipped = tx
        .fetch_optional::<(i64,)>(
            "UPDATE operation_run_tenants SET state = $3, items_failed = $4, \
                 items_skipped = CASE WHEN $5 - items_updated > 0 THEN $5 - items_updated ELSE 0 END, \
                 finished_at = $6, started_at = COALESCE(started_at, $6), \
                 reason_code = $7, message = $8 \
             WHERE run_id = $1 AND tenant_id = $2 AND state IN ('queued', 'running') \
             RETURNING items_skipped",
            args![
                run_id,
                tenant_id,
                state,
                result.items_failed,
                result.items_in_target_state,
                now,
                first.map(|f| f.reason_code.clone()),
                first.map(|f| f.message.clone())
            ],
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
    // Counting and, for the last tenant, completing are one statement on the
    // row every tenant job shares, so its lock is held briefly.
    let row = tx
        .fetch_optional::<RunAfterCount>(
            &format!(
                "UPDATE operation_runs SET processed = processed + 1, succeeded = succeeded + $2, \
                 failed = failed + $3, items_skipped = items_skipped + $4, items_failed = items_failed + $5, \
                 {COMPLETE_WHEN_DONE}, \
                 started_at = COALESCE(started_at, $6) \
             WHERE id = $1 AND status <> 'completed' \
             RETURNING status, max_concurrency, max_errors, min_finished, reason_code, failed, processed, total"
            ),
            args![run_id, ok, failed, skipped, result.items_failed, now],
        )
        .await?;
    Ok(match row {
        Some(r) if r.status == "completed" => Counted::AndCompleted,
        Some(r) => Counted::Yes(Some(r)),
        None => Counted::Yes(None),
    })
}

/// Completes the run once every tenant is processed (`processed + 1` is
/// the count after this statement; `$3` the tenant's failure, `$2` its
/// success); a run whose error budget is spent ends failed.
const COMPLETE_WHEN_DONE: &str = "status = CASE WHEN processed + 1 >= total THEN 'completed' ELSE status END, \
     completed_at = CASE WHEN processed + 1 >= total THEN $6 ELSE completed_at END, \
     outcome = CASE WHEN processed + 1 < total THEN outcome \
                    WHEN reason_code IS NOT NULL THEN 'failed' \
                    WHEN failed + $3 = 0 THEN 'succeeded' \
                    WHEN succeeded + $2 = 0 THEN 'failed' \
                    ELSE 'partially_succeeded' END";

/// The run's counts right after a tenant's result counted, for the error
/// budget's check.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunAfterCount {
    pub status: String,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub min_finished: Option<i64>,
    pub reason_code: Option<String>,
    pub failed: i64,
    pub processed: i64,
    pub total: i64,
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
    // Both drive the UPDATE from the listed tenants' keys over the primary
    // key (SQLite's `+state` keeps it off the state index). Joined to the
    // list instead, SQLite walks every queued tenant of the run and reads the
    // whole list once per tenant, and PostgreSQL, guessing the list at a
    // hundred rows, hashes every queued tenant of the run (9 ms a batch in
    // a 10,000-tenant run). PostgreSQL locks the listed rows first, in
    // tenant order (the one lock order; a cancel takes them in that order).
    let sql = tx.pick(
        "UPDATE operation_run_tenants SET state = 'succeeded', items_failed = 0, \
             items_skipped = max(0, (SELECT json_extract(l.value, '$[1]') FROM json_each($2) l \
                 WHERE json_extract(l.value, '$[0]') = operation_run_tenants.tenant_id) - items_updated), \
             finished_at = $3, started_at = COALESCE(started_at, $3), reason_code = NULL, message = NULL \
         WHERE run_id = $1 AND +state IN ('queued', 'running') \
           AND tenant_id IN (SELECT json_extract(value, '$[0]') FROM json_each($2)) \
         RETURNING items_skipped",
        "UPDATE operation_run_tenants SET state = 'succeeded', items_failed = 0, \
             items_skipped = GREATEST(0, (SELECT (e->>1)::bigint FROM jsonb_array_elements($2::jsonb) e \
                 WHERE (e->>0)::bigint = operation_run_tenants.tenant_id) - items_updated), \
             finished_at = $3, started_at = COALESCE(started_at, $3), reason_code = NULL, message = NULL \
         WHERE run_id = $1 AND state IN ('queued', 'running') \
           AND tenant_id = ANY(ARRAY(SELECT tenant_id FROM operation_run_tenants \
               WHERE run_id = $1 AND state IN ('queued', 'running') \
                 AND tenant_id = ANY(ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements($2::jsonb) e)) \
               ORDER BY tenant_id FOR UPDATE)) \
         RETURNING items_skipped",
    );
    let rows: Vec<(i64,)> = tx.fetch_all(sql, args![run_id, list, now]).await?;
    if rows.is_empty() {
        return Ok(Counted::No);
    }
    let skipped: i64 = rows.iter().map(|(s,)| s).sum();
    let n = rows.len() as i64;
    let row = tx
        .fetch_optional::<RunAfterCount>(
            &format!(
                "UPDATE operation_runs SET processed = processed + $7, succeeded = succeeded + $2, \
                 failed = failed + $3, items_skipped = items_skipped + $4, items_failed = items_failed + $5, \
                 {}, \
                 started_at = COALESCE(started_at, $6) \
             WHERE id = $1 AND status <> 'completed' \
             RETURNING status, max_concurrency, max_errors, min_finished, reason_code, failed, processed, total",
                COMPLETE_WHEN_DONE.replace("processed + 1", "processed + $7")
            ),
            args![run_id, n, 0i64, skipped, 0i64, now, n],
        )
        .await?;
    Ok(match row {
        Some(r) if r.status == "completed" => Counted::AndCompleted,
        Some(r) => Counted::Yes(Some(r)),
        None => Counted::Yes(None),
    })
}

/// Whether a tenant's result counted, and whether it completed the run.
#[derive(Debug, Clone)]
pub enum Counted {
    No,
    /// Counted; the run's counts after it (None if the run was completed).
    Yes(Option<RunAfterCount>),
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

pub async fn tenants_in_states(
    db: &Db,
    run_id: i64,
    states: &[TenantState],
) -> Result<Vec<i64>, sqlx::Error> {
    let states: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let rows = db
        .fetch_all::<(i64,)>(
            &format!(
                "SELECT tenant_id FROM operation_run_tenants WHERE run_id = $1 AND state IN ({}) \
                 ORDER BY tenant_id",
                states.join(", ")
            ),
            args![run_id],
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A run's tenants in `states` counted by state and reason code, largest
/// first, each group with one of its messages: (state, reason code or "",
/// tenants, message or ""). One grouped read, whatever the run's size.
pub async fn count_by_state_and_reason(
    db: &Db,
    run_id: i64,
    states: &[TenantState],
) -> Result<Vec<(String, String, i64, String)>, sqlx::Error> {
    if states.is_empty() {
        return Ok(vec![]);
    }
    // The states are the enum's own words, never input.
    let states: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    db.fetch_all(
        &format!(
            "SELECT state, COALESCE(reason_code, '') AS code, COUNT(*) AS tenants, \
                    COALESCE(MIN(message), '') AS sample \
             FROM operation_run_tenants WHERE run_id = $1 AND state IN ({}) \
             GROUP BY state, COALESCE(reason_code, '') \
             ORDER BY tenants DESC, state, code",
            states.join(", ")
        ),
        args![run_id],
    )
    .await
}

/// Locks the listed tenant rows of a run in tenant order (the one lock
/// order), for a transaction that records several of them in more than one
/// statement before touching the run's row. SQLite lets one writer in at a
/// time and needs nothing.
pub async fn lock_in_order(
    tx: &mut Tx,
    run_id: i64,
    tenant_ids: &[i64],
) -> Result<(), sqlx::Error> {
    if tx.backend() == crate::storage::Backend::Sqlite {
        return Ok(());
    }
    let sql = format!(
        "SELECT tenant_id FROM operation_run_tenants WHERE run_id = $1 AND {} \
         ORDER BY tenant_id FOR UPDATE",
        crate::storage::in_id_list(tx.backend(), "tenant_id", "$2")
    );
    let _: Vec<(i64,)> = tx
        .fetch_all(
            &sql,
            args![run_id, crate::storage::id_list(tenant_ids.iter().copied())],
        )
        .await?;
    Ok(())
}
