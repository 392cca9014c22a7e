//! Operator controls over a run: per-tenant results and the box score,
//! the concurrency cap and error budget across worker processes, pause and
//! resume with new limits, retry by state, and the doors' bad input.

use std::time::{Duration, Instant};

use tenantatlas::domain::Capability;
use tenantatlas::queue::{Recorded, Step};
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{Outcome, Run, RunLimits, RunStatus, TenantQuery, TenantState};
use tenantatlas::storage::Db;

use crate::both_backends;
use crate::support::cli::Binary;
use crate::support::runs::cli;
use crate::support::web::*;
use crate::support::{Backend, TestApp, TestDb};

use crate::support::runs::BACKFILL;

async fn start(t: &TestApp, limits: RunLimits) -> Run {
    t.app
        .runbooks()
        .start_with_limits(&cli(), BACKFILL, &ScopeRequest::AllTenants, None, limits)
        .await
        .unwrap()
        .run
}

fn limits(cap: Option<&str>, errors: Option<&str>) -> RunLimits {
    RunLimits::parse(cap, errors, None).unwrap()
}

/// The box score adds up to the run's total, and the run's own counts agree.
async fn assert_adds_up(t: &TestApp, run_id: i64) -> tenantatlas::runs::BoxScore {
    let run = t.app.runs().get(run_id).await.unwrap();
    let page = t
        .app
        .runs()
        .run_tenants(&cli(), run_id, &TenantQuery::default())
        .await
        .unwrap();
    let b = page.box_score;
    // Each state as the tenant rows have it (an active run's box score is
    // read off the run's row).
    for (state, shown) in [
        ("queued", b.queued),
        ("running", b.running),
        ("succeeded", b.succeeded),
        ("failed", b.failed),
        ("not_started", b.not_started),
        ("cancelled", b.cancelled),
    ] {
        let rows = t
            .count(&format!(
                "SELECT count(*) FROM operation_run_tenants WHERE run_id = {run_id} AND state = '{state}'"
            ))
            .await;
        assert_eq!(shown, rows, "{state}: {b:?}");
    }
    let parts = b.queued + b.running + b.succeeded + b.failed + b.not_started + b.cancelled;
    assert_eq!(parts, run.summary_counts.total, "{b:?}");
    assert_eq!(b.total, run.summary_counts.total);
    if run.outcome != Outcome::Cancelled {
        assert_eq!(b.succeeded, run.summary_counts.succeeded, "{b:?}");
        assert_eq!(b.failed, run.summary_counts.failed, "{b:?}");
        assert_eq!(b.not_started, run.not_started);
    }
    b
}

fn ran(step: Step) -> Recorded {
    match step {
        Step::Ran { recorded, .. } => recorded,
        Step::Idle => panic!("no job ran"),
    }
}

both_backends!(
    per_tenant_results_add_up_under_retries_and_a_cancel,
    |t| async move {
        // 6 tenants and platform; the first 2 seeded tenants fail.
        t.seed(6, 5, 2).await;
        let run = start(t, RunLimits::default()).await;
        assert_eq!(run.items_expected, Some(30), "the preflight is stored");
        let worker = t.worker();
        for _ in 0..4 {
            ran(worker.run_once().await.unwrap());
            assert_adds_up(t, run.id).await;
        }
        let cancelled = t.app.runs().cancel(&cli(), run.id).await.unwrap();
        assert_eq!(cancelled.outcome, Outcome::Cancelled);
        let b = assert_adds_up(t, run.id).await;
        assert_eq!(b.cancelled, 3);
        assert_eq!(b.succeeded + b.failed, 4);

        // Filter, search, sort and page.
        let service = t.app.runs();
        let q = TenantQuery::parse(
            Some("cancelled"),
            None,
            Some("-external_id"),
            None,
            Some("2"),
        )
        .unwrap();
        let page = service.run_tenants(&cli(), run.id, &q).await.unwrap();
        assert_eq!(page.matching, 3);
        assert_eq!(page.rows.len(), 2);
        assert!(page.rows[0].external_id > page.rows[1].external_id);
        assert!(page.rows.iter().all(|r| r.state == TenantState::Cancelled));
        let failed = service
            .run_tenants(
                &cli(),
                run.id,
                &TenantQuery::parse(Some("failed"), None, None, None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(failed.matching, 2);
        for r in &failed.rows {
            assert_eq!(
                r.reason_code.as_deref(),
                Some("finding.unknown_legacy_state")
            );
            assert!(r.message.is_some());
            assert_eq!(r.attempts, 1);
            assert!(r.started_at.is_some() && r.finished_at.is_some() && r.duration_ms.is_some());
            assert_eq!(r.items_expected, Some(5));
        }
        let platform = service
            .run_tenants(
                &cli(),
                run.id,
                &TenantQuery::parse(None, Some("PLATF"), None, None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(platform.matching, 1, "search ignores case");
        let all = service
            .run_tenants_all(&cli(), run.id, &TenantQuery::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 7);

        // Retry by state (default: failed, not started, cancelled).
        let retry = service
            .retry(&cli(), run.id, &TenantState::RETRYABLE, None)
            .await
            .unwrap();
        assert_eq!(retry.run.summary_counts.total, 5);
        assert_eq!(retry.run.context.retry_of, Some(run.id));
        // A failing tenant's job is retried with backoff before it is given up.
        for _ in 0..20 {
            t.drain().await;
            t.clock.advance(chrono::Duration::seconds(120));
            if !t.app.runs().get(retry.run.id).await.unwrap().is_active() {
                break;
            }
            assert_adds_up(t, retry.run.id).await;
        }
        let done = t.app.runs().get(retry.run.id).await.unwrap();
        assert_eq!(done.status, RunStatus::Completed);
        let b = assert_adds_up(t, retry.run.id).await;
        assert_eq!((b.succeeded, b.failed), (3, 2));
        let failed = service
            .run_tenants(
                &cli(),
                retry.run.id,
                &TenantQuery::parse(Some("failed"), None, None, None, None).unwrap(),
            )
            .await
            .unwrap();
        let attempts: Vec<i64> = failed.rows.iter().map(|r| r.attempts).collect();
        assert_eq!(attempts, vec![1, 1], "one attempt each");
        let original = service.run(&cli(), run.id).await.unwrap();
        assert_eq!(
            original.retries,
            vec![retry.run.id],
            "the original finds its retry"
        );
    }
);

both_backends!(pause_and_resume_with_a_change_of_cap, |t| async move {
    t.seed(5, 3, 0).await;
    let run = start(t, limits(Some("1"), None)).await;
    let service = t.app.runs();
    let worker = t.worker();
    assert_eq!(ran(worker.run_once().await.unwrap()), Recorded::Completed);

    let paused = service.pause(&cli(), run.id).await.unwrap();
    assert_eq!(paused.status, RunStatus::Paused);
    assert!(
        service.pause(&cli(), run.id).await.is_err(),
        "already paused"
    );
    // Tenants about to start are put back; nothing starts.
    t.drain().await;
    let b = assert_adds_up(t, run.id).await;
    assert_eq!((b.succeeded, b.queued, b.running), (1, 5, 0));
    assert_eq!(
        worker.run_once().await.unwrap(),
        Step::Idle,
        "jobs wait for resume"
    );

    // A tenant in flight (another worker's) fills the cap of 1.
    t.exec(&format!(
        "UPDATE operation_run_tenants SET state = 'running' WHERE run_id = {} AND tenant_id = \
             (SELECT max(tenant_id) FROM operation_run_tenants WHERE run_id = {})",
        run.id, run.id
    ))
    .await;
    let resumed = service.resume(&cli(), run.id).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Running);
    assert_eq!(
        ran(worker.run_once().await.unwrap()),
        Recorded::Snoozed,
        "cap reached"
    );
    let b = assert_adds_up(t, run.id).await;
    assert_eq!(b.running, 1);

    // A cap of 2 lets one more start at once.
    let changed = service
        .set_limits(&cli(), run.id, Some("2"), None, None)
        .await
        .unwrap();
    assert_eq!(changed.limits.max_concurrency.as_deref(), Some("2"));
    assert_eq!(ran(worker.run_once().await.unwrap()), Recorded::Completed);
    assert!(
        service
            .set_limits(&cli(), run.id, Some("0"), None, None)
            .await
            .is_err(),
        "a cap of 0 is bad input"
    );
    t.exec(&format!(
        "UPDATE operation_run_tenants SET state = 'queued' WHERE run_id = {} AND state = 'running'",
        run.id
    ))
    .await;
    service
        .set_limits(&cli(), run.id, Some(""), None, None)
        .await
        .unwrap();
    t.drain().await;
    let done = t.app.runs().get(run.id).await.unwrap();
    assert_eq!(done.outcome, Outcome::Succeeded);
    assert_eq!(done.summary_counts.succeeded, 6);
    let audit = t
        .count(&format!(
            "SELECT count(*) FROM audit_events WHERE subject = 'run:{}' \
                 AND action IN ('run.pause', 'run.resume', 'run.limits')",
            run.id
        ))
        .await;
    assert_eq!(audit, 4);
});

both_backends!(
    retry_by_state_after_a_cancel_picks_the_not_started_and_cancelled,
    |t| async move {
        // 8 tenants and platform; the first 2 seeded tenants fail.
        t.seed(8, 2, 2).await;
        let run = start(t, limits(None, Some("1"))).await;
        let worker = t.worker();
        // One tenant stays in flight (its worker is elsewhere).
        let in_flight: i64 = t
            .count(&format!(
                "SELECT max(tenant_id) FROM operation_run_tenants WHERE run_id = {}",
                run.id
            ))
            .await;
        t.exec(&format!(
            "UPDATE operation_run_tenants SET state = 'running' WHERE run_id = {} AND tenant_id = {in_flight}",
            run.id
        ))
        .await;
        t.exec(&format!(
            "UPDATE jobs SET status = 'cancelled' WHERE run_id = {} AND tenant_id = {in_flight}",
            run.id
        ))
        .await;
        // Work until the budget (more than 1 failure) is spent.
        for _ in 0..40 {
            if t.app
                .runs()
                .get(run.id)
                .await
                .unwrap()
                .reason_code
                .is_some()
            {
                break;
            }
            match worker.run_once().await.unwrap() {
                Step::Idle => t.clock.advance(chrono::Duration::seconds(120)),
                Step::Ran { .. } => {}
            }
        }
        let stopped = t.app.runs().run(&cli(), run.id).await.unwrap();
        assert_eq!(
            stopped.reason_code.as_deref(),
            Some("run.error_budget_exhausted")
        );
        assert!(stopped.is_active(), "the tenant in flight still runs");
        let b = assert_adds_up(t, run.id).await;
        assert_eq!((b.failed, b.running, b.queued), (2, 1, 0));
        assert!(b.not_started > 0);
        let queued_jobs = t
            .count(&format!(
                "SELECT count(*) FROM jobs WHERE run_id = {} AND status IN ('available', 'retryable')",
                run.id
            ))
            .await;
        assert_eq!(queued_jobs, 0, "jobs of not started tenants are dropped");

        t.app.runs().cancel(&cli(), run.id).await.unwrap();
        let b = assert_adds_up(t, run.id).await;
        assert_eq!(b.cancelled, 1);
        let ended = t.app.runs().get(run.id).await.unwrap();
        let message = tenantatlas::alerts::AlertMessage::for_run(
            &ended,
            tenantatlas::alerts::Severity::High,
            "http://console.test",
        );
        assert!(
            message
                .summary
                .contains("Stopped: run.error_budget_exhausted"),
            "{}",
            message.summary
        );
        assert!(
            message.summary.contains("5 not started, 1 cancelled"),
            "{}",
            message.summary
        );
        let expected: Vec<i64> = {
            let mut ids = t
                .app
                .runs()
                .tenants_in_states(run.id, &[TenantState::NotStarted, TenantState::Cancelled])
                .await
                .unwrap();
            ids.sort();
            ids
        };
        assert_eq!(expected.len() as i64, b.not_started + 1);
        let states = TenantState::parse_retry_states(Some("not_started,cancelled")).unwrap();
        let retry = t
            .app
            .runs()
            .retry(&cli(), run.id, &states, None)
            .await
            .unwrap();
        let mut picked: Vec<i64> = t
            .app
            .runs()
            .run_tenants_all(&cli(), retry.run.id, &TenantQuery::default())
            .await
            .unwrap()
            .iter()
            .map(|r| r.tenant_id)
            .collect();
        picked.sort();
        assert_eq!(
            picked, expected,
            "exactly the not started and cancelled tenants"
        );
        assert_eq!(retry.run.context.retry_of, Some(run.id));
        assert_eq!(
            retry.run.limits.max_errors.as_deref(),
            Some("1"),
            "limits carry over"
        );
    }
);

/// Samples the run's running tenants until it completes; returns the most
/// seen at once.
async fn watch_run(db: &Db, run_id: i64, kill: Option<&mut tokio::process::Child>) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut most = 0;
    let mut kill = kill;
    loop {
        assert!(Instant::now() < deadline, "run {run_id} did not complete");
        let running: i64 = db
            .scalar(
                "SELECT count(*) FROM operation_run_tenants WHERE run_id = $1 AND state = 'running'",
                tenantatlas::args![run_id],
            )
            .await
            .unwrap();
        most = most.max(running);
        let (status, processed): (String, i64) = db
            .fetch_one(
                "SELECT status, processed FROM operation_runs WHERE id = $1",
                tenantatlas::args![run_id],
            )
            .await
            .unwrap();
        if processed >= 3
            && let Some(child) = kill.take()
        {
            child.start_kill().expect("SIGKILL");
            child.wait().await.unwrap();
        }
        if status == "completed" {
            return most;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

type Time = chrono::DateTime<chrono::Utc>;

/// Most tenants of the run whose [started, finished] spans overlap.
async fn max_overlap(db: &Db, run_id: i64) -> usize {
    let rows: Vec<(Option<Time>, Option<Time>)> = db
        .fetch_all(
            "SELECT started_at, finished_at FROM operation_run_tenants WHERE run_id = $1 \
             AND started_at IS NOT NULL",
            tenantatlas::args![run_id],
        )
        .await
        .unwrap();
    let spans: Vec<_> = rows
        .into_iter()
        .filter_map(|(s, f)| Some((s?, f?)))
        .collect();
    spans
        .iter()
        .map(|(s, _)| spans.iter().filter(|(s2, f2)| s2 <= s && s < f2).count())
        .max()
        .unwrap_or(0)
}

async fn cap_and_budget_across_three_workers(backend: Backend) {
    let Some(test_db) = TestDb::new(backend).await else {
        return;
    };
    let url = test_db.url.clone();
    let env = [
        ("TENANTATLAS_JOB_LEASE_SECONDS", "2"),
        ("TENANTATLAS_CHUNK_SIZE", "5"),
    ];
    let bin = Binary::new(&url, &env);
    let seeded = bin
        .run("demo seed --tenants 12 --findings-per-tenant 150 --bad-tenants 0")
        .await;
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    let started = bin
        .run(&format!(
            "runbooks start {BACKFILL} --all-tenants --max-concurrency 2 --json"
        ))
        .await;
    assert_eq!(started.code, 0, "{}", started.stderr);
    let capped = started.json()["id"].as_i64().unwrap();
    assert_eq!(started.json()["limits"]["max_concurrency"], "2");

    let mut workers: Vec<tokio::process::Child> = (0..3).map(|_| bin.spawn_worker(2)).collect();
    let db = Db::open(&url, 2).await.unwrap();
    // One worker is killed with SIGKILL in the middle of the run.
    let most = watch_run(&db, capped, Some(&mut workers[0])).await;
    let overlap = max_overlap(&db, capped).await;
    eprintln!("cap 2: at most {most} running seen, {overlap} overlapping");
    assert!(most <= 2, "{most} tenants ran at once under a cap of 2");
    assert_eq!(overlap, 2, "two tenants at once, never three");
    let shown = bin
        .run(&format!("runs tenants {capped} --json --per-page 500"))
        .await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let page = shown.json();
    assert_eq!(page["box_score"]["succeeded"], 13, "{page}");
    assert_eq!(page["box_score"]["total"], 13);
    assert_eq!(page["rows"].as_array().unwrap().len(), 13);

    // The error budget: a second run over seeded tenants that fail.
    let seeded = bin
        .run("demo seed --tenants 10 --findings-per-tenant 20 --bad-tenants 10")
        .await;
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    let started = bin
        .run(&format!(
            "runbooks run {BACKFILL} --all-tenants --max-concurrency 1 --max-errors 2 --json"
        ))
        .await;
    assert_eq!(started.code, 0, "{}", started.stderr);
    let budget = started.json()["id"].as_i64().unwrap();
    workers[0] = bin.spawn_worker(2);
    let most = watch_run(&db, budget, None).await;
    assert!(most <= 1);
    let shown = bin.run(&format!("runs show {budget} --json")).await;
    let run = shown.json();
    assert_eq!(run["outcome"], "failed", "{run}");
    assert_eq!(run["reason_code"], "run.error_budget_exhausted");
    let text = bin.run(&format!("runs show {budget}")).await;
    assert!(
        text.stdout.contains("run.error_budget_exhausted"),
        "{}",
        text.stdout
    );
    let shown = bin.run(&format!("runs tenants {budget} --json")).await;
    let b = &shown.json()["box_score"];
    assert_eq!(
        b["failed"], 3,
        "{b}: in flight one at a time, 3 failures pass a budget of 2"
    );
    assert_eq!(b["queued"], 0);
    assert_eq!(b["running"], 0);
    let total = run["summary_counts"]["total"].as_i64().unwrap();
    let parts: i64 = ["succeeded", "failed", "not_started", "cancelled"]
        .iter()
        .map(|k| b[k].as_i64().unwrap())
        .sum();
    assert_eq!(parts, total);
    assert!(b["not_started"].as_i64().unwrap() > 0);
    for w in &mut workers {
        let _ = w.start_kill();
    }
    db.close().await;
    test_db.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cap_and_budget_hold_across_three_worker_processes_sqlite() {
    cap_and_budget_across_three_workers(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cap_and_budget_hold_across_three_worker_processes_postgres() {
    cap_and_budget_across_three_workers(Backend::Postgres).await;
}

both_backends!(
    the_cli_lists_and_exports_tenants_and_rejects_bad_limits,
    |t| async move {
        t.seed(3, 4, 1).await;
        let bin = Binary::new(&t.db.url, &[]);
        let runs_before = t.count("SELECT count(*) FROM operation_runs").await;
        for bad in [
            "--max-concurrency 0",
            "--max-concurrency abc",
            "--max-concurrency 150%",
            "--max-errors 101%",
            "--min-finished x",
        ] {
            let out = bin
                .run(&format!("runbooks start {BACKFILL} --all-tenants {bad}"))
                .await;
            assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
            assert!(
                out.stderr.contains("max_") || out.stderr.contains("min_finished"),
                "{bad}: {}",
                out.stderr
            );
        }
        assert_eq!(
            t.count("SELECT count(*) FROM operation_runs").await,
            runs_before,
            "nothing written"
        );

        let out = bin
            .run(&format!(
                "runbooks start {BACKFILL} --all-tenants --max-concurrency 50% --wait --json"
            ))
            .await;
        assert_eq!(out.code, 1, "partially succeeded: {}", out.stderr);
        let id = out.json()["id"].as_i64().unwrap();
        let out = bin
            .run(&format!("runs tenants {id} --json --state failed"))
            .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let page = out.json();
        assert_eq!(page["matching"], 1);
        assert_eq!(page["rows"][0]["state"], "failed");
        assert_eq!(page["box_score"]["total"], 4);

        let out = bin
            .run(&format!("runs tenants {id} --csv --sort external_id"))
            .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 5, "{}", out.stdout);
        assert!(lines[0].starts_with("external_id,state,items_expected,items_updated"));
        assert!(
            lines
                .iter()
                .any(|l| l.contains(",failed,") && l.contains("finding.unknown_legacy_state"))
        );

        for bad in [
            "--state pending",
            "--sort nope",
            "--per-page 501",
            "--csv --json",
        ] {
            let out = bin.run(&format!("runs tenants {id} {bad}")).await;
            assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        }
        let audit_before = t.count("SELECT count(*) FROM audit_events").await;
        let out = bin
            .run(&format!("runs limits {id} --max-concurrency abc"))
            .await;
        assert_eq!(out.code, 2);
        let out = bin
            .run(&format!("runs retry {id} --states succeeded"))
            .await;
        assert_eq!(out.code, 2);
        assert_eq!(
            t.count("SELECT count(*) FROM audit_events").await,
            audit_before
        );
        let out = bin
            .run(&format!("runs retry {id} --states failed --json"))
            .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.json()["context"]["retry_of"], id);
        let out = bin.run(&format!("runs show {id}")).await;
        assert!(out.stdout.contains("retried by: run"), "{}", out.stdout);
        assert!(
            out.stdout.contains("expected: 12 items, 11 done"),
            "{}",
            out.stdout
        );
    }
);

both_backends!(
    the_api_answers_tenants_and_controls_and_rejects_bad_input,
    |t| async move {
        let app = &t.app;
        t.seed(4, 3, 1).await;
        let (_server, base, c) = console_as(app, "ops@ops.test", &Capability::ALL).await;
        let start = format!("{base}/system/api/runbooks/{BACKFILL}/start");
        let runs_before = t.count("SELECT count(*) FROM operation_runs").await;
        for bad in ["0", "abc", "150%", "\u{0}1"] {
            let body = serde_json::json!({"scope": "all", "reason": "x", "max_concurrency": bad});
            assert_status(c.post(&start).json(&body), 422).await;
        }
        assert_eq!(
            t.count("SELECT count(*) FROM operation_runs").await,
            runs_before
        );
        let body = serde_json::json!({"scope": "all", "reason": "x", "max_concurrency": "2", "max_errors": "50%"});
        let run: serde_json::Value = assert_status(c.post(&start).json(&body), 201)
            .await
            .json()
            .await
            .unwrap();
        let id = run["id"].as_i64().unwrap();
        assert_eq!(run["limits"]["max_errors"], "50%");
        assert_eq!(run["items_expected"], 12);

        let api = format!("{base}/system/api/runs/{id}");
        let r = assert_status(
            c.post(format!("{api}/pause")).json(&serde_json::json!({})),
            200,
        )
        .await;
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["status"],
            "paused"
        );
        assert_status(
            c.post(format!("{api}/pause")).json(&serde_json::json!({})),
            409,
        )
        .await;
        assert_status(
            c.post(format!("{api}/limits"))
                .json(&serde_json::json!({"max_concurrency": "0"})),
            422,
        )
        .await;
        // A misspelt field is refused, not ignored, and changes nothing.
        let before = get_json(&c, api.clone()).await["limits"].clone();
        let r = assert_status(
            c.post(format!("{api}/limits"))
                .json(&serde_json::json!({"max_concurency": "3"})),
            422,
        )
        .await;
        let refused = r.json::<serde_json::Value>().await.unwrap();
        assert!(
            refused["error"]
                .as_str()
                .is_some_and(|e| e.contains("max_concurency")),
            "{refused}"
        );
        assert_eq!(get_json(&c, api.clone()).await["limits"], before);
        let r = assert_status(
            c.post(format!("{api}/limits"))
                .json(&serde_json::json!({"max_concurrency": "3"})),
            200,
        )
        .await;
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["limits"]["max_concurrency"],
            "3"
        );
        assert_status(
            c.post(format!("{api}/resume")).json(&serde_json::json!({})),
            200,
        )
        .await;
        t.drain().await;

        let page = get_json(
            &c,
            format!("{api}/tenants?state=failed&sort=-duration&per_page=10"),
        )
        .await;
        assert_eq!(page["matching"], 1, "{page}");
        assert_eq!(page["box_score"]["total"], 5);
        for bad in ["state=nope", "per_page=501", "sort=bogus", "page=0"] {
            assert_status(c.get(format!("{api}/tenants?{bad}")), 422).await;
        }
        assert_status(c.get(format!("{base}/system/api/runs/999999/tenants")), 404).await;

        let r = assert_status(
            c.get(format!("{base}/system/runs/{id}/tenants.csv?state=failed")),
            200,
        )
        .await;
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = r.text().await.unwrap();
        assert_eq!(csv.lines().count(), 2, "{csv}");

        assert_status(
            c.post(format!("{api}/retry"))
                .json(&serde_json::json!({"states": ["succeeded"]})),
            422,
        )
        .await;
        let r = assert_status(
            c.post(format!("{api}/retry"))
                .json(&serde_json::json!({"states": ["failed"]})),
            201,
        )
        .await;
        let retry: serde_json::Value = r.json().await.unwrap();
        assert_eq!(retry["context"]["retry_of"], id);
        assert_eq!(retry["summary_counts"]["total"], 1);
        let original = get_json(&c, &api).await;
        assert_eq!(original["retries"][0], retry["id"]);

        // The console's form posts redirect back to the run.
        let html = get_html(&c, format!("{base}/system/runs/{id}")).await;
        let tok = token_of(&html);
        t.drain().await;
        let r = assert_status(
            c.post(format!("{base}/system/runs/{id}/retry"))
                .form(&[("_token", tok.as_str()), ("states", "failed")]),
            303,
        )
        .await;
        assert!(location(&r).starts_with("/system/runs/"));
        let r = assert_status(
            c.post(format!("{base}/system/runs/{id}/retry"))
                .form(&[("_token", tok.as_str()), ("states", "nope")]),
            422,
        )
        .await;
        drop(r);
    }
);

both_backends!(
    a_run_without_a_workspace_still_lists_its_tenants,
    |t| async move {
        // Runs from before workspaces have none: their tenants are listed
        // all the same, in the same order, with the same counts.
        t.seed(4, 2, 0).await;
        let run = start(t, RunLimits::default()).await;
        let service = t.app.runs();
        let service = &service;
        let run_id = run.id;
        let read = |q: TenantQuery| async move {
            let page = service.run_tenants(&cli(), run_id, &q).await.unwrap();
            let ids: Vec<String> = page.rows.iter().map(|r| r.external_id.clone()).collect();
            (ids, page.matching, page.box_score.total)
        };
        let by_default = || TenantQuery::default();
        let searched = || TenantQuery::parse(None, Some("PLATF"), None, None, None).unwrap();
        let (ids, matching, total) = read(by_default()).await;
        assert_eq!((ids.len(), matching, total), (5, 5, 5));
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "in external id order");
        let platform = read(searched()).await;
        assert_eq!(platform.1, 1);

        t.exec(&format!(
            "UPDATE operation_runs SET workspace_id = NULL WHERE id = {}",
            run.id
        ))
        .await;
        assert_eq!(read(by_default()).await, (ids.clone(), 5, 5));
        assert_eq!(read(searched()).await, platform);
        let exported: Vec<String> = service
            .run_tenants_all(&cli(), run_id, &TenantQuery::default())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.external_id)
            .collect();
        assert_eq!(exported, ids, "the export too");

        let missing = service
            .run_tenants(&cli(), run.id + 1000, &TenantQuery::default())
            .await;
        assert!(
            matches!(missing, Err(tenantatlas::error::Error::NotFound(_))),
            "{missing:?}"
        );
    }
);

both_backends!(
    a_retry_takes_the_runs_limits_or_new_ones_and_names_tenants_by_external_id,
    |t| async move {
        use tenantatlas::domain::run_controls::LimitsText;
        t.seed(4, 3, 2).await;
        let run = start(t, limits(Some("2"), Some("10"))).await;
        t.drain().await;
        let runs = t.app.runs();
        // Left out: the run's own limits.
        let kept = runs
            .retry(&cli(), run.id, &[TenantState::Failed], None)
            .await
            .unwrap()
            .run;
        assert_eq!(kept.limits, run.limits);
        runs.cancel(&cli(), kept.id).await.unwrap();
        // Changed and removed as typed; a bad one writes nothing.
        let audits = t.count("SELECT count(*) FROM audit_events").await;
        let bad = LimitsText {
            max_concurrency: Some("zero"),
            ..LimitsText::default()
        };
        let refused = runs
            .retry_with(&cli(), run.id, &[TenantState::Failed], None, bad)
            .await;
        assert!(refused.is_err());
        assert_eq!(t.count("SELECT count(*) FROM audit_events").await, audits);
        let changed = LimitsText {
            max_concurrency: Some(""),
            max_errors: Some("1"),
            min_finished: None,
        };
        let retry = runs
            .retry_with(&cli(), run.id, &[TenantState::Failed], None, changed)
            .await
            .unwrap()
            .run;
        assert_eq!(retry.limits, limits(None, Some("1")));
        let (detail,): (String,) = t
            .app
            .db
            .fetch_one(
                &format!(
                    "SELECT detail FROM audit_events WHERE subject = 'run:{}' AND action = 'run.retry'",
                    retry.id
                ),
                vec![],
            )
            .await
            .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["scope"]["tenants"], 2, "{detail}");
        assert_eq!(
            detail["scope"]["tenant_external_ids"],
            serde_json::json!(["demo-00001", "demo-00002"]),
            "{detail}"
        );
        assert!(detail["scope"].get("tenant_ids").is_none(), "{detail}");
        assert_eq!(detail["limits"]["max_errors"], "1");
    }
);

both_backends!(
    the_rate_counts_only_running_time_and_a_paused_run_has_no_countdown,
    |t| async move {
        t.seed(4, 10, 0).await;
        let run = start(t, limits(Some("1"), None)).await;
        let worker = t.worker();
        let runs = t.app.runs();
        // Tenants one at a time until some items are done, ten seconds in.
        while runs.get(run.id).await.unwrap().summary_counts.items_updated == 0 {
            worker.run_once().await.unwrap();
        }
        t.clock.advance(chrono::Duration::seconds(10));
        let before = runs.run(&cli(), run.id).await.unwrap();
        let rate = before
            .estimate
            .expect("a rate while it runs")
            .items_per_second;
        assert!(rate > 0.0);

        runs.pause(&cli(), run.id).await.unwrap();
        t.clock.advance(chrono::Duration::hours(1));
        let paused = runs.run(&cli(), run.id).await.unwrap();
        assert!(paused.estimate.is_none(), "no countdown while paused");
        let now = tenantatlas::clock::Clock::now(&*t.clock);
        assert_eq!(
            paused.took(now),
            "10 s",
            "the hour paused is no working time"
        );
        runs.resume(&cli(), run.id).await.unwrap();
        let after = runs.run(&cli(), run.id).await.unwrap();
        let resumed = after.estimate.expect("a rate again").items_per_second;
        assert_eq!(
            after.took(tenantatlas::clock::Clock::now(&*t.clock)),
            "10 s"
        );
        // The hour paused is left out: the same items over the same ten
        // running seconds (not over an hour and ten seconds).
        assert!(
            (resumed - rate).abs() < 0.01,
            "rate {rate} before the pause, {resumed} after"
        );
    }
);
