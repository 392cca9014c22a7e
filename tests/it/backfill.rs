//! The findings lifecycle backfill (SPEC §3.1) and the workspace-ids runbook,
//! checked on real rows.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tenantatlas::args;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::Outcome;

use crate::both_backends;
use crate::support::runs::{cli, preflight_all, run_all};

use crate::support::runs::BACKFILL;
const IDS: &str = "workspaces.backfill-ids";

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, day, hour, 0, 0)
        .single()
        .unwrap()
}

#[derive(sqlx::FromRow, Debug, Clone, PartialEq)]
struct Lifecycle {
    id: i64,
    status: Option<String>,
    first_seen_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    times_seen: Option<i64>,
    resolved_at: Option<DateTime<Utc>>,
    sla_due_at: Option<DateTime<Utc>>,
    lifecycle_version: Option<i64>,
}

async fn tenant(t: &crate::support::TestApp, ext: &str) -> i64 {
    let ws = t.app.runbooks().workspace().await.unwrap();
    t.app
        .db
        .scalar(
            "INSERT INTO tenants (workspace_id, external_id, name, created_at) VALUES ($1, $2, $2, $3) RETURNING id",
            args![ws.id, ext, t.app.clock.now()],
        )
        .await
        .unwrap()
}

async fn finding(
    t: &crate::support::TestApp,
    tenant: i64,
    severity: &str,
    state: &str,
    closed_at: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
) -> i64 {
    t
        .app
        .db
        .scalar(
            "INSERT INTO findings (workspace_id, tenant_id, fingerprint, title, severity, legacy_state, closed_at, \
                 created_at, updated_at) \
             VALUES (1, $1, $2, 'A finding', $3, $4, $5, $6, $7) RETURNING id",
            args![tenant, uuid::Uuid::new_v4().to_string(), severity, state, closed_at, created, updated],
        )
        .await
        .unwrap()
}

/// Records when a finding was observed.
async fn observe(t: &crate::support::TestApp, id: i64, observed: &[DateTime<Utc>]) {
    for o in observed {
        t.app
            .db
            .execute(
                "INSERT INTO finding_observations (finding_id, observed_at) VALUES ($1, $2)",
                args![id, *o],
            )
            .await
            .unwrap();
    }
}

const LIFECYCLE: &str = "SELECT id, status, first_seen_at, last_seen_at, times_seen, resolved_at, \
                         sla_due_at, lifecycle_version FROM findings";

async fn lifecycle(t: &crate::support::TestApp, id: i64) -> Lifecycle {
    let sql = format!("{LIFECYCLE} WHERE id = $1");
    t.app.db.fetch_one(&sql, args![id]).await.unwrap()
}

/// Every finding's lifecycle, by id.
async fn lifecycles(t: &crate::support::TestApp) -> Vec<Lifecycle> {
    let sql = format!("{LIFECYCLE} ORDER BY id");
    t.app.db.fetch_all(&sql, args![]).await.unwrap()
}

both_backends!(
    every_lifecycle_field_is_derived_as_specified,
    |t| async move {
        let acme = tenant(t, "acme").await;
        let open_critical = finding(t, acme, "critical", "open", None, at(1, 8), at(2, 9)).await;
        let closed = Some(at(20, 5));
        let closed_high = finding(t, acme, "high", "closed", closed, at(1, 0), at(21, 0)).await;
        observe(t, closed_high, &[at(3, 1), at(10, 2), at(5, 3)]).await;
        let closed_medium_no_date =
            finding(t, acme, "medium", "closed", None, at(4, 0), at(6, 12)).await;
        observe(t, closed_medium_no_date, &[at(5, 0)]).await;
        let ignored_low = finding(t, acme, "low", "ignored", None, at(7, 0), at(8, 0)).await;
        observe(t, ignored_low, &[at(9, 0)]).await;
        let bad = finding(t, acme, "high", "reopened", None, at(1, 0), at(1, 0)).await;

        let scope =
            ScopeRequest::Tenant(tenantatlas::domain::TenantExternalId::parse("acme").unwrap());
        let started = t
            .app
            .runbooks()
            .start(&cli(), BACKFILL, &scope, None)
            .await
            .unwrap();
        t.drain().await;

        let f = lifecycle(t, open_critical).await;
        assert_eq!(f.status.as_deref(), Some("new"));
        assert_eq!(
            f.first_seen_at,
            Some(at(1, 8)),
            "no observations: created_at"
        );
        assert_eq!(
            f.last_seen_at,
            Some(at(2, 9)),
            "no observations: updated_at"
        );
        assert_eq!(f.times_seen, Some(1), "at least 1");
        assert_eq!(f.resolved_at, None);
        assert_eq!(f.sla_due_at, Some(at(1, 8) + Duration::days(7)));
        assert_eq!(f.lifecycle_version, Some(1));

        let f = lifecycle(t, closed_high).await;
        assert_eq!(f.status.as_deref(), Some("resolved"));
        assert_eq!(f.first_seen_at, Some(at(3, 1)), "earliest observation");
        assert_eq!(f.last_seen_at, Some(at(10, 2)), "latest observation");
        assert_eq!(f.times_seen, Some(3));
        assert_eq!(f.resolved_at, Some(at(20, 5)), "closed_at");
        assert_eq!(f.sla_due_at, Some(at(3, 1) + Duration::days(30)));

        let f = lifecycle(t, closed_medium_no_date).await;
        assert_eq!(f.status.as_deref(), Some("resolved"));
        assert_eq!(f.resolved_at, Some(at(6, 12)), "no closed_at: updated_at");
        assert_eq!(f.sla_due_at, Some(at(5, 0) + Duration::days(90)));

        let f = lifecycle(t, ignored_low).await;
        assert_eq!(f.status.as_deref(), Some("risk_accepted"));
        assert_eq!(f.resolved_at, None);
        assert_eq!(f.times_seen, Some(1));
        assert_eq!(f.sla_due_at, Some(at(9, 0) + Duration::days(180)));

        let f = lifecycle(t, bad).await;
        assert_eq!(f.status, None, "bad legacy data is left unchanged");
        assert_eq!(f.lifecycle_version, None);

        let run = t.app.runs().get(started.run.id).await.unwrap();
        assert_eq!(run.outcome, Outcome::Failed, "the only tenant failed");
        assert_eq!(run.summary_counts.items_updated, 4);
        assert_eq!(run.summary_counts.items_failed, 1);
        assert_eq!(run.failures.len(), 1);
        assert_eq!(run.failures[0].reason_code, "finding.unknown_legacy_state");
        assert!(
            run.failures[0].message.contains(&bad.to_string()),
            "names the finding: {}",
            run.failures[0].message
        );
        assert_eq!(run.failures[0].tenant_external_id.as_deref(), Some("acme"));
    }
);

both_backends!(
    a_bad_tenant_fails_alone_and_the_run_partially_succeeds,
    |t| async move {
        t.seed(3, 12, 1).await;
        let run = run_all(t, BACKFILL).await;
        assert_eq!(run.outcome, Outcome::PartiallySucceeded);
        assert_eq!(run.summary_counts.total, 4);
        assert_eq!(run.summary_counts.processed, 4);
        assert_eq!(run.summary_counts.failed, 1);
        assert_eq!(run.summary_counts.succeeded, 3);
        assert_eq!(
            run.summary_counts.items_updated, 35,
            "the bad tenant's other findings are backfilled"
        );
        assert_eq!(run.summary_counts.items_failed, 1);
        assert_eq!(run.failures[0].reason_code, "finding.unknown_legacy_state");
        assert_eq!(
            run.failures[0].tenant_external_id.as_deref(),
            Some("demo-00001")
        );
    }
);

both_backends!(
    chunk_boundaries_and_a_second_run_that_updates_nothing,
    |t| async move {
        // Chunk size is 10 in tests: tenants with 0, 1, 10 and 11 findings.
        for n in [0, 1, 10, 11] {
            t.seed(1, n, 0).await;
        }
        let preflight = preflight_all(&t.app, BACKFILL).await;
        assert_eq!(preflight.tenants, 5);
        assert_eq!(preflight.items_pending, 22);
        let pending: Vec<i64> = preflight
            .per_tenant
            .iter()
            .map(|p| p.items_pending)
            .collect();
        assert_eq!(
            pending,
            vec![0, 1, 10, 11, 0],
            "ordered by external id, platform last"
        );
        assert_eq!(
            t.count("SELECT count(*) FROM operation_runs").await,
            0,
            "preflight writes nothing"
        );
        assert_eq!(t.count("SELECT count(*) FROM jobs").await, 0);

        let first = run_all(t, BACKFILL).await;
        assert_eq!(first.outcome, Outcome::Succeeded);
        assert_eq!(first.summary_counts.items_updated, 22);
        assert_eq!(first.summary_counts.items_skipped, 0);
        let per_tenant: Vec<(i64,)> = t
        .app
        .db
        .fetch_all(
            "SELECT rt.items_updated FROM operation_run_tenants rt JOIN tenants t ON t.id = rt.tenant_id \
             WHERE rt.run_id = $1 ORDER BY t.external_id",
            args![first.id],
        )
        .await
        .unwrap();
        assert_eq!(
            per_tenant.into_iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![0, 1, 10, 11, 0]
        );

        let before = lifecycles(t).await;
        let second = run_all(t, BACKFILL).await;
        assert_eq!(second.outcome, Outcome::Succeeded);
        assert_eq!(
            second.summary_counts.items_updated, 0,
            "a second run updates nothing"
        );
        assert_eq!(second.summary_counts.items_skipped, 22);
        let after = lifecycles(t).await;
        assert_eq!(before, after);
    }
);

both_backends!(workspace_ids_are_filled_from_the_tenant, |t| async move {
    t.seed(2, 7, 0).await;
    t.exec("UPDATE findings SET workspace_id = NULL WHERE id % 2 = 0")
        .await;
    let missing = t
        .count("SELECT count(*) FROM findings WHERE workspace_id IS NULL")
        .await;
    assert!(missing > 0);
    let preflight = preflight_all(&t.app, IDS).await;
    assert_eq!(preflight.items_pending, missing);
    let run = run_all(t, IDS).await;
    assert_eq!(run.outcome, Outcome::Succeeded);
    assert_eq!(run.summary_counts.items_updated, missing);
    assert_eq!(
        t.count("SELECT count(*) FROM findings WHERE workspace_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        t.count("SELECT count(*) FROM findings WHERE workspace_id <> 1")
            .await,
        0
    );
});
