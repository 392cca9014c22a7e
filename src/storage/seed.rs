//! Legacy demo data at any scale, made set-based inside the database
//! (a series of numbers cross-joined with tenants), never a statement per row.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::args;
use crate::storage::Db;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    pub tenants: i64,
    pub findings: i64,
    pub observations: i64,
    pub bad_tenants: i64,
}

/// The legacy state the seed gives a bad tenant's first finding.
pub const BAD_LEGACY_STATE: &str = "archived";

const TENANTS_SQLITE: &str = "WITH RECURSIVE g(n) AS (SELECT $3 UNION ALL SELECT n + 1 FROM g WHERE n < $4) \
    INSERT INTO tenants (workspace_id, external_id, name, created_at) \
    SELECT $1, 'demo-' || substr('00000' || n, -5, 5), 'Demo tenant ' || n, $2 FROM g";
const TENANTS_POSTGRES: &str = "INSERT INTO tenants (workspace_id, external_id, name, created_at) \
    SELECT $1, 'demo-' || lpad(n::text, 5, '0'), 'Demo tenant ' || n, $2 FROM generate_series($3::bigint, $4::bigint) n";

// Severity, state and age vary with the numbers; about a third are closed,
// of which some lack `closed_at` (as legacy data does).
const FINDINGS_SQLITE: &str = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $3) \
    INSERT INTO findings (workspace_id, tenant_id, fingerprint, title, severity, legacy_state, closed_at, created_at, updated_at) \
    SELECT t.workspace_id, t.id, 'fp-' || t.id || '-' || n, 'Finding ' || n || ' of ' || t.external_id, \
      CASE (t.id * 7 + n) % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END, \
      CASE (t.id + n * 3 + n / 3) % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'closed' ELSE 'ignored' END, \
      CASE WHEN (t.id + n * 3 + n / 3) % 3 = 1 AND n % 5 <> 0 \
           THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', $4, '-' || (n % 300) || ' days', '+' || (n % 50) || ' hours') END, \
      strftime('%Y-%m-%dT%H:%M:%S+00:00', $4, '-' || (n % 365) || ' days'), \
      strftime('%Y-%m-%dT%H:%M:%S+00:00', $4, '-' || (n % 300) || ' days', '+' || (n % 60) || ' hours') \
    FROM tenants t CROSS JOIN g WHERE t.workspace_id = $1 AND t.id BETWEEN $2 AND $5";
const FINDINGS_POSTGRES: &str = "INSERT INTO findings (workspace_id, tenant_id, fingerprint, title, severity, legacy_state, closed_at, created_at, updated_at) \
    SELECT t.workspace_id, t.id, 'fp-' || t.id || '-' || n, 'Finding ' || n || ' of ' || t.external_id, \
      CASE (t.id * 7 + n) % 4 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END, \
      CASE (t.id + n * 3 + n / 3) % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'closed' ELSE 'ignored' END, \
      CASE WHEN (t.id + n * 3 + n / 3) % 3 = 1 AND n % 5 <> 0 \
           THEN $4 - make_interval(days => (n % 300)::int) + make_interval(hours => (n % 50)::int) END, \
      $4 - make_interval(days => (n % 365)::int), \
      $4 - make_interval(days => (n % 300)::int) + make_interval(hours => (n % 60)::int) \
    FROM tenants t CROSS JOIN generate_series(1::bigint, $3::bigint) n WHERE t.workspace_id = $1 AND t.id BETWEEN $2 AND $5";

// 0–5 observations a finding, a day apart from its creation.
const OBSERVATIONS_SQLITE: &str = "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 5) \
    INSERT INTO finding_observations (finding_id, observed_at) \
    SELECT f.id, strftime('%Y-%m-%dT%H:%M:%S+00:00', f.created_at, '+' || k.n || ' days') \
    FROM findings f CROSS JOIN k WHERE f.tenant_id BETWEEN $1 AND $2 AND k.n <= f.id % 6";
const OBSERVATIONS_POSTGRES: &str = "INSERT INTO finding_observations (finding_id, observed_at) \
    SELECT f.id, f.created_at + make_interval(days => k::int) \
    FROM findings f CROSS JOIN generate_series(1, 5) k WHERE f.tenant_id BETWEEN $1 AND $2 AND k <= f.id % 6";

/// Adds `tenants` demo tenants with `findings_per_tenant` legacy findings each;
/// the first `bad_tenants` get one finding in an unknown legacy state.
pub async fn seed(
    db: &Db,
    workspace_id: i64,
    tenants: i64,
    findings_per_tenant: i64,
    bad_tenants: i64,
    now: DateTime<Utc>,
) -> Result<SeedReport, sqlx::Error> {
    let mut tx = db.begin().await?;
    let existing: i64 = tx
        .scalar(
            "SELECT count(*) FROM tenants WHERE workspace_id = $1 AND external_id LIKE 'demo-%'",
            args![workspace_id],
        )
        .await?;
    if tenants == 0 {
        return Ok(SeedReport::default());
    }
    let (from, to) = (existing + 1, existing + tenants);
    tx.execute(
        tx.pick(TENANTS_SQLITE, TENANTS_POSTGRES),
        args![workspace_id, now, from, to],
    )
    .await?;
    let (first_id, last_id): (i64, i64) = tx
        .fetch_one(
            "SELECT min(id), max(id) FROM tenants WHERE workspace_id = $1 AND external_id >= $2 AND external_id <= $3 \
             AND external_id LIKE 'demo-%'",
            args![workspace_id, format!("demo-{from:05}"), format!("demo-{to:05}")],
        )
        .await?;
    let findings = if findings_per_tenant > 0 {
        tx.execute(
            tx.pick(FINDINGS_SQLITE, FINDINGS_POSTGRES),
            args![workspace_id, first_id, findings_per_tenant, now, last_id],
        )
        .await? as i64
    } else {
        0
    };
    let observations = tx
        .execute(
            tx.pick(OBSERVATIONS_SQLITE, OBSERVATIONS_POSTGRES),
            args![first_id, last_id],
        )
        .await? as i64;
    let bad = bad_tenants.clamp(0, if findings_per_tenant > 0 { tenants } else { 0 });
    if bad > 0 {
        tx.execute(
            "UPDATE findings SET legacy_state = $3 WHERE id IN \
             (SELECT min(id) FROM findings WHERE tenant_id BETWEEN $1 AND $2 GROUP BY tenant_id)",
            args![first_id, first_id + bad - 1, BAD_LEGACY_STATE],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SeedReport {
        tenants,
        findings,
        observations,
        bad_tenants: bad,
    })
}

/// How many demo tenants the workspace has.
pub async fn demo_tenants(db: &Db, workspace_id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(
        "SELECT count(*) FROM tenants WHERE workspace_id = $1 AND external_id LIKE 'demo-%'",
        args![workspace_id],
    )
    .await
}
