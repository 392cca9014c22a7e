//! Statements of an operator's controls over a run: the gate a tenant
//! passes before it starts (under the run row's lock), pause and limits,
//! the error budget's stop, and the reads of a run's tenant results.
//! A run's tenant rows are locked, in tenant order, before its own row
//! (docs/architecture.md, "Lock order").

use chrono::{DateTime, Utc};

use super::tenants::tenant_rows_in_order;
use crate::args;
use crate::domain::run_controls::RunLimits;
use crate::domain::run_tenants::{TenantQuery, TenantRow, TenantSort};
use crate::storage::{Db, Tx};

/// Starts the tenant without the gate when its run has no cap, is not
/// paused and not stopped, or when the tenant already runs (a retry, or the
/// job of a worker that died). Returns None when the gate must decide (or
/// the tenant is done).
pub async fn start_ungated(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    tx.fetch_optional::<(i64,)>(
        "UPDATE operation_run_tenants SET state = 'running', attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3) \
         WHERE run_id = $1 AND tenant_id = $2 AND (state = 'running' OR (state = 'queued' AND NOT EXISTS \
             (SELECT 1 FROM operation_runs r WHERE r.id = $1 \
              AND (r.paused OR r.max_concurrency IS NOT NULL OR r.reason_code IS NOT NULL)))) \
         RETURNING attempts",
        args![run_id, tenant_id, now],
    )
    .await
    .map(|r| r.map(|(a,)| a))
}

/// [`start_ungated`] for several tenants of one run in one statement, every
/// listed row locked (the gate's too, before the run's row); returns the
/// tenants started (the others are for the gate) and the run's status.
pub async fn start_ungated_many(
    tx: &mut Tx,
    run_id: i64,
    tenant_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, Option<String>), sqlx::Error> {
    let listed = crate::storage::in_id_list(tx.backend(), "tenant_id", "$2");
    let rows = tenant_rows_in_order(tx.backend(), &listed);
    let started: Vec<(i64, Option<String>)> = tx
        .fetch_all(
            &format!(
                "UPDATE operation_run_tenants SET state = 'running', attempts = attempts + 1, \
                     started_at = COALESCE(started_at, $3) \
                 WHERE {rows} AND (state = 'running' OR (state = 'queued' AND NOT EXISTS \
                     (SELECT 1 FROM operation_runs r WHERE r.id = $1 \
                      AND (r.paused OR r.max_concurrency IS NOT NULL OR r.reason_code IS NOT NULL)))) \
                 RETURNING tenant_id, (SELECT r.status FROM operation_runs r WHERE r.id = $1)"
            ),
            args![run_id, crate::storage::id_list(tenant_ids.iter().copied()), now],
        )
        .await?;
    let status = started.first().and_then(|(_, s)| s.clone());
    Ok((started.into_iter().map(|(t, _)| t).collect(), status))
}

/// The run as the gate reads it, its row locked until the transaction ends
/// so starts of the run's tenants pass one at a time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GateRow {
    pub paused: bool,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub min_finished: Option<i64>,
    pub reason_code: Option<String>,
    pub total: i64,
}

pub async fn lock_for_gate(tx: &mut Tx, run_id: i64) -> Result<Option<GateRow>, sqlx::Error> {
    tx.fetch_optional::<GateRow>(
        "UPDATE operation_runs SET paused = paused WHERE id = $1 AND status <> 'completed' \
         RETURNING paused, max_concurrency, max_errors, min_finished, reason_code, total",
        args![run_id],
    )
    .await
}

/// Locks the tenant's row (before its run's) and returns its state.
pub async fn lock_tenant_state(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let lock = tx.pick("", "FOR UPDATE");
    let sql = format!(
        "SELECT state FROM operation_run_tenants WHERE run_id = $1 AND tenant_id = $2 {lock}"
    );
    let row = tx
        .fetch_optional::<(String,)>(&sql, args![run_id, tenant_id])
        .await?;
    Ok(row.map(|(s,)| s))
}

/// The run's running tenants, read after the run's lock.
pub async fn running(tx: &mut Tx, run_id: i64) -> Result<i64, sqlx::Error> {
    tx.scalar::<i64>(
        "SELECT count(*) FROM operation_run_tenants WHERE run_id = $1 AND state = 'running'",
        args![run_id],
    )
    .await
}

/// queued → running once the gate let the tenant start.
pub async fn start_gated(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(tx
        .execute(
            "UPDATE operation_run_tenants SET state = 'running', attempts = attempts + 1, \
                 started_at = COALESCE(started_at, $3) \
             WHERE run_id = $1 AND tenant_id = $2 AND state = 'queued'",
            args![run_id, tenant_id, now],
        )
        .await?
        == 1)
}

/// Ends the run's queued tenants (one, or all) `not_started` and counts them
/// processed; completes the run when nothing else is left. Returns how many
/// ended and whether the run completed.
pub async fn end_not_started(
    tx: &mut Tx,
    run_id: i64,
    tenant_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(i64, bool), sqlx::Error> {
    let queued = "state = 'queued' AND ($2 IS NULL OR tenant_id = $2)";
    let rows = tenant_rows_in_order(tx.backend(), queued);
    let n = tx
        .execute(
            &format!(
                "UPDATE operation_run_tenants SET state = 'not_started', finished_at = $3 \
                 WHERE {rows} AND state = 'queued'"
            ),
            args![run_id, tenant_id, now],
        )
        .await? as i64;
    if n == 0 {
        return Ok((0, false));
    }
    let status = tx
        .fetch_optional::<(String,)>(
            "UPDATE operation_runs SET processed = processed + $2, not_started = not_started + $2, \
                 status = CASE WHEN processed + $2 >= total THEN 'completed' ELSE status END, \
                 completed_at = CASE WHEN processed + $2 >= total THEN $3 ELSE completed_at END, \
                 outcome = CASE WHEN processed + $2 < total THEN outcome \
                                WHEN reason_code IS NOT NULL OR succeeded = 0 THEN 'failed' \
                                WHEN failed = 0 THEN 'succeeded' ELSE 'partially_succeeded' END \
             WHERE id = $1 AND status <> 'completed' RETURNING status",
            args![run_id, n, now],
        )
        .await?;
    Ok((n, status.is_some_and(|(s,)| s == "completed")))
}

/// Records why the run stops (once). Returns whether this call set it.
pub async fn set_reason(tx: &mut Tx, run_id: i64, reason: &str) -> Result<bool, sqlx::Error> {
    Ok(tx
        .execute(
            "UPDATE operation_runs SET reason_code = $2 \
             WHERE id = $1 AND status <> 'completed' AND reason_code IS NULL",
            args![run_id, reason],
        )
        .await?
        == 1)
}

/// Pauses or resumes an active run. Returns whether it changed.
pub async fn set_paused(
    tx: &mut Tx,
    run_id: i64,
    paused: bool,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    // A pause starts its clock; a resume adds the pause to the run's paused
    // time when the run had started (a rate counts only running time).
    let sql = match paused {
        true => {
            "UPDATE operation_runs SET paused = $2, paused_since_ms = $3 \
                 WHERE id = $1 AND status <> 'completed' AND paused <> $2"
        }
        false => {
            "UPDATE operation_runs SET paused = $2, paused_since_ms = NULL, \
                 paused_ms = paused_ms + CASE WHEN started_at IS NULL THEN 0 \
                                              ELSE $3 - COALESCE(paused_since_ms, $3) END \
                 WHERE id = $1 AND status <> 'completed' AND paused <> $2"
        }
    };
    Ok(tx.execute(sql, args![run_id, paused, now_ms]).await? == 1)
}

/// Replaces an active run's cap and budget. Returns whether it was active.
pub async fn set_limits(tx: &mut Tx, run_id: i64, limits: &RunLimits) -> Result<bool, sqlx::Error> {
    Ok(tx
        .execute(
            "UPDATE operation_runs SET max_concurrency = $2, max_errors = $3, min_finished = $4 \
             WHERE id = $1 AND status <> 'completed'",
            args![
                run_id,
                limits.max_concurrency.clone(),
                limits.max_errors.clone(),
                limits.min_finished
            ],
        )
        .await?
        == 1)
}

/// Tenants per state of the run. An active run's finished tenants are
/// counted on its row, in the transactions that set their states, so only
/// its running tenants are counted here (the `(run_id, state)` index reads
/// just those) and the queued ones are what is left: one statement, one
/// snapshot, however many tenants the run has. A completed run (cancelled
/// tenants are counted nowhere else) is counted in full.
pub async fn box_score(db: &Db, run_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let row = db
        .fetch_optional::<(String, i64, i64, i64, i64, i64)>(
            "SELECT r.status, r.total, r.succeeded, r.failed, r.not_started, \
                 (SELECT count(*) FROM operation_run_tenants rt \
                  WHERE rt.run_id = r.id AND rt.state = 'running') \
             FROM operation_runs r WHERE r.id = $1",
            args![run_id],
        )
        .await?;
    match row {
        Some((status, total, succeeded, failed, not_started, running)) if status != "completed" => {
            let queued = total - succeeded - failed - not_started - running;
            Ok([
                ("queued", queued),
                ("running", running),
                ("succeeded", succeeded),
                ("failed", failed),
                ("not_started", not_started),
            ]
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|(state, n)| (state.to_owned(), n))
            .collect())
        }
        _ => {
            db.fetch_all::<(String, i64)>(
                "SELECT state, count(*) FROM operation_run_tenants WHERE run_id = $1 GROUP BY state",
                args![run_id],
            )
            .await
        }
    }
}

/// The workspace whose tenants a run's tenant query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantsIn {
    /// The run's own, looked up inside the statement: no rows for a run
    /// without a workspace.
    RunsOwn,
    /// Any (a run without a workspace, from before workspaces).
    Any,
}

/// The conditions and arguments of a tenant query: only the filters in
/// use, so each shape gets a plan of its own. Within one workspace, the
/// default order (external id, unique within a workspace) is read from the
/// `(workspace_id, external_id)` index without a sort.
fn tenant_filter(
    db: &Db,
    run_id: i64,
    within: TenantsIn,
    query: &TenantQuery,
) -> (String, Vec<crate::storage::Arg>) {
    let mut args = args![run_id];
    let mut filter = "FROM operation_run_tenants rt JOIN tenants t ON t.id = rt.tenant_id \
                      WHERE rt.run_id = $1"
        .to_owned();
    match within {
        TenantsIn::RunsOwn => {
            filter += " AND t.workspace_id = (SELECT r.workspace_id FROM operation_runs r WHERE r.id = $1)"
        }
        TenantsIn::Any => {}
    }
    if let Some(state) = query.state {
        args.push(state.as_str().into());
        filter += &format!(" AND rt.state = ${}", args.len());
    }
    if let Some(search) = &query.search {
        args.push(search.as_str().into());
        let find = db.pick("instr", "strpos");
        filter += &format!(
            " AND {find}(lower(t.external_id), lower(${})) > 0",
            args.len()
        );
    }
    (filter, args)
}

/// The run's workspace (None inside: a run without one); None: no such run.
pub async fn run_workspace(db: &Db, run_id: i64) -> Result<Option<Option<i64>>, sqlx::Error> {
    Ok(db
        .fetch_optional::<(Option<i64>,)>(
            "SELECT workspace_id FROM operation_runs WHERE id = $1",
            args![run_id],
        )
        .await?
        .map(|(ws,)| ws))
}

/// How many of the run's tenants match the query.
pub async fn count_matching(
    db: &Db,
    run_id: i64,
    within: TenantsIn,
    query: &TenantQuery,
) -> Result<i64, sqlx::Error> {
    let (filter, args) = tenant_filter(db, run_id, within, query);
    Ok(db
        .fetch_one::<(i64,)>(&format!("SELECT count(*) {filter}"), args)
        .await?
        .0)
}

/// One page of the run's tenants (all of them when `all`), in the query's
/// order.
pub async fn tenant_page(
    db: &Db,
    run_id: i64,
    within: TenantsIn,
    query: &TenantQuery,
    all: bool,
) -> Result<Vec<TenantRow>, sqlx::Error> {
    let duration = db.pick(
        "(julianday(rt.finished_at) - julianday(rt.started_at))",
        "(rt.finished_at - rt.started_at)",
    );
    let dir = if query.descending { "DESC" } else { "ASC" };
    let key = match query.sort {
        TenantSort::ExternalId if within == TenantsIn::RunsOwn => None,
        TenantSort::ExternalId => Some("t.external_id"),
        TenantSort::State => Some(
            "CASE rt.state WHEN 'running' THEN 0 WHEN 'failed' THEN 1 WHEN 'queued' THEN 2 \
             WHEN 'not_started' THEN 3 WHEN 'cancelled' THEN 4 ELSE 5 END",
        ),
        TenantSort::Duration => Some(duration),
        TenantSort::ItemsUpdated => Some("rt.items_updated"),
        TenantSort::ItemsFailed => Some("rt.items_failed"),
        TenantSort::Attempts => Some("rt.attempts"),
        TenantSort::StartedAt => Some("rt.started_at"),
    };
    let order = match key {
        // External ids are unique within the workspace: a total order.
        None => format!("t.external_id {dir}"),
        Some(key) => {
            format!("({key}) IS NULL, {key} {dir}, t.external_id {dir}, rt.tenant_id")
        }
    };
    let (filter, mut args) = tenant_filter(db, run_id, within, query);
    let (limit, offset) = if all {
        (i64::MAX, 0)
    } else {
        (query.per_page, query.offset())
    };
    args.push(limit.into());
    args.push(offset.into());
    let n = args.len();
    let rows = db.fetch_all::<TenantRow>(
        &format!(
            "SELECT rt.tenant_id, t.external_id, rt.state, rt.items_expected, rt.items_updated, \
                 rt.items_skipped, rt.items_failed, rt.attempts, rt.started_at, rt.finished_at, \
                 rt.reason_code, rt.message \
             {filter} ORDER BY {order} LIMIT ${} OFFSET ${n}",
            n - 1
        ),
        args,
    )
    .await?;
    Ok(rows.into_iter().map(TenantRow::timed).collect())
}
