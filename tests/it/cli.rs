//! The real `tenantatlas` binary against a real database: exit codes, JSON
//! shapes, bad input, the old command name and the deploy hook.

use serde_json::Value;

use crate::both_backends;
use crate::support::cli::{Output, tenantatlas};
use crate::support::{TestApp, argv};

/// Runs a command line (see [`argv`]) in a fresh folder.
async fn run(t: &TestApp, line: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    tenantatlas(&t.db.url, &argv(line), &[], dir.path()).await
}

both_backends!(bad_input_exits_2_and_writes_nothing, |t| async move {
    let cases = [
        [
            "runbooks run no.such-runbook --all-tenants",
            "unknown runbook",
        ],
        [
            "runbooks preflight findings.backfill-lifecycle",
            "choose a scope",
        ],
        [
            "runbooks run findings.backfill-lifecycle --all-tenants --tenant x",
            "not both",
        ],
        [
            "runbooks run findings.backfill-lifecycle --tenant nobody",
            "unknown tenant",
        ],
        [
            "runbooks run findings.backfill-lifecycle --all-tenants --reason '  '",
            "reason",
        ],
        [
            "findings:backfill-lifecycle --tenant nobody --preflight",
            "unknown tenant",
        ],
        ["runs list --status sideways", "unknown status"],
        ["demo seed --tenants -1 --findings-per-tenant 1", ""],
        ["runbooks frobnicate", ""],
    ];
    for [args, expected] in cases {
        let out = run(t, args).await;
        assert_eq!(out.code, 2, "{args:?} exits 2; stderr: {}", out.stderr);
        assert!(
            out.stderr.to_lowercase().contains(expected),
            "{args:?}: stderr {:?} mentions {expected:?}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} prints nothing on stdout: {}",
            out.stdout
        );
    }
    assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
    assert_eq!(t.count("SELECT count(*) FROM jobs").await, 0);
    assert_eq!(t.count("SELECT count(*) FROM tenants").await, 1);
});

#[tokio::test]
async fn a_malformed_database_url_exits_2_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "mysql://localhost/db",
        "postgres://user@host:notaport/db",
        "nonsense",
    ] {
        let out = tenantatlas(url, &["runbooks", "list"], &[], dir.path()).await;
        assert_eq!(out.code, 2, "{url}: {}", out.stderr);
        assert!(out.stderr.contains("DATABASE_URL"), "{url}: {}", out.stderr);
    }
    // Checks that need no database run before it is opened: no file appears.
    let out = tenantatlas(
        "sqlite://fresh.db",
        &["runbooks", "run", "nope", "--all-tenants"],
        &[],
        dir.path(),
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        !dir.path().join("fresh.db").exists(),
        "bad input wrote nothing"
    );
}

both_backends!(
    a_run_with_a_bad_tenant_exits_1_with_its_failure,
    |t| async move {
        let seeded = run(
            t,
            "demo seed --tenants 3 --findings-per-tenant 15 --bad-tenants 1 --json",
        )
        .await;
        assert_eq!(seeded.code, 0, "{}", seeded.stderr);
        let seeded = seeded.json();
        assert_eq!(seeded["tenants"], 3);
        assert_eq!(seeded["findings"], 45);
        assert_eq!(seeded["bad_tenants"], 1);
        assert!(seeded["observations"].as_i64().unwrap() > 0);

        let preflight = run(
            t,
            "runbooks preflight findings.backfill-lifecycle --all-tenants --json",
        )
        .await;
        assert_eq!(preflight.code, 0);
        let p = preflight.json();
        assert_eq!(p["tenants"], 4);
        assert_eq!(p["items_pending"], 45);
        assert_eq!(p["can_start"], true);
        assert_eq!(p["active_run_id"], Value::Null);
        assert_eq!(p["per_tenant"][0]["tenant_external_id"], "demo-00001");

        let wait = "--all-tenants --wait --json --reason 'ticket 7'";
        let out = run(
            t,
            &format!("runbooks run findings.backfill-lifecycle {wait}"),
        )
        .await;
        assert_eq!(out.code, 1, "partially succeeded exits 1: {}", out.stderr);
        let r = out.json();
        assert_eq!(r["status"], "completed");
        assert_eq!(r["outcome"], "partially_succeeded");
        assert_eq!(r["summary_counts"]["processed"], 4);
        assert_eq!(r["summary_counts"]["items_updated"], 44);
        assert_eq!(
            r["failures"][0]["reason_code"],
            "finding.unknown_legacy_state"
        );
        assert_eq!(r["failures"][0]["tenant_external_id"], "demo-00001");
        assert_eq!(r["context"]["initiator"]["kind"], "cli");
        assert_eq!(r["context"]["reason"], "ticket 7");
        assert_eq!(r["context"]["scope"]["kind"], "all_tenants");
        assert!(
            r["completed_at"].as_str().unwrap().ends_with('Z'),
            "RFC 3339 UTC"
        );

        let shown = run(t, &format!("runs show {} --json", r["id"])).await;
        assert_eq!(shown.code, 0);
        assert_eq!(shown.json()["summary_counts"], r["summary_counts"]);
        assert_eq!(shown.json()["progress"]["succeeded"], 3);
        assert_eq!(shown.json()["progress"]["percent"], 100);

        // The text a person reads: tenants by what became of them, times
        // to the second in UTC, a header over the runs list.
        let text = run(t, &format!("runs show {}", r["id"])).await;
        assert_eq!(text.code, 0, "{}", text.stderr);
        assert!(
            text.stdout
                .contains("tenants:  4 of 4 tenants ran: 3 succeeded, 1 failed"),
            "{}",
            text.stdout
        );
        let completed = r["completed_at"].as_str().unwrap();
        let second = format!("{} UTC", &completed[..19].replace('T', " "));
        assert!(text.stdout.contains(&second), "{second} in {}", text.stdout);
        let list = run(t, "runs list").await;
        let mut lines = list.stdout.lines();
        let header = lines.next().unwrap_or_default();
        assert!(
            header.contains("id") && header.contains("outcome") && header.contains("created (UTC)"),
            "{header}"
        );
        assert!(
            lines.next().is_some_and(|l| l.contains("4/4 ran")),
            "{}",
            list.stdout
        );
        let tenants = run(t, &format!("runs tenants {}", r["id"])).await;
        assert!(
            tenants.stdout.contains(" ms ") || tenants.stdout.contains(" s "),
            "durations in their unit: {}",
            tenants.stdout
        );
    }
);

both_backends!(exit_codes_follow_the_readme, |t| async move {
    // 1: understood, but it did not work: a missing run or
    // destination, an action its state refuses.
    let seeded = run(t, "demo seed --tenants 1 --findings-per-tenant 2").await;
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    let done = run(
        t,
        "runbooks run findings.backfill-lifecycle --tenant demo-00001 --wait --json",
    )
    .await;
    assert_eq!(done.code, 0, "{}", done.stderr);
    let id = done.json()["id"].as_i64().unwrap();
    for (args, expected) in [
        ("runs show 999999".to_owned(), "does not exist"),
        ("runs cancel 999999".to_owned(), "does not exist"),
        ("runs tenants 999999".to_owned(), "does not exist"),
        (
            "alerts destination remove 999999".to_owned(),
            "does not exist",
        ),
        (format!("runs pause {id}"), ""),
        (format!("runs cancel {id}"), ""),
    ] {
        let out = run(t, &args).await;
        assert_eq!(out.code, 1, "{args:?} exits 1; stderr: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    // 2: the words themselves are wrong.
    for args in [
        "runs show abc",
        "runs frobnicate",
        "runbooks run no.such --all-tenants",
    ] {
        assert_eq!(run(t, args).await.code, 2, "{args:?}");
    }
    // Logs to a pipe carry no colour codes.
    let dir = tempfile::tempdir().unwrap();
    let logged = tenantatlas(
        &t.db.url,
        &argv("runs list"),
        &[("RUST_LOG", "debug")],
        dir.path(),
    )
    .await;
    assert!(!logged.stderr.is_empty(), "debug logs were written");
    assert!(!logged.stderr.contains('\u{1b}'), "{}", logged.stderr);
});

both_backends!(
    the_old_command_name_runs_the_backfill_and_succeeds,
    |t| async move {
        let seeded = run(t, "demo seed --tenants 2 --findings-per-tenant 9").await;
        assert_eq!(seeded.code, 0, "{}", seeded.stderr);
        let old_name = "tenantpilot:findings:backfill-lifecycle";
        let out = run(t, &format!("{old_name} --tenant demo-00002 --wait --json")).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let r = out.json();
        assert_eq!(r["outcome"], "succeeded");
        assert_eq!(r["summary_counts"]["items_updated"], 9);
        assert_eq!(r["context"]["scope"]["tenant_external_id"], "demo-00002");
        assert!(r["tenant_id"].is_i64(), "a tenant run carries its tenant");

        let preflight = run(
            t,
            "findings:backfill-lifecycle --all-tenants --preflight --json",
        )
        .await;
        assert_eq!(preflight.json()["items_pending"], 9);
    }
);

both_backends!(
    the_deploy_hook_starts_once_and_records_the_release,
    |t| async move {
        let dir = tempfile::tempdir().unwrap();
        let url = t.db.url.as_str();
        tenantatlas(
            url,
            &argv("demo seed --tenants 2 --findings-per-tenant 5"),
            &[],
            dir.path(),
        )
        .await;

        let off = tenantatlas(
            url,
            &["deploy:hook", "--json"],
            &[("TENANTATLAS_DEPLOY_RUNBOOKS", "off")],
            dir.path(),
        )
        .await;
        assert_eq!(off.code, 0);
        assert_eq!(off.json()["skipped"], true);
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);

        let release = [("TENANTATLAS_RELEASE", "2026.11.3")];
        let first = tenantatlas(url, &["deploy:hook", "--json"], &release, dir.path()).await;
        assert_eq!(first.code, 0, "{}", first.stderr);
        let first = first.json();
        let actions = first["actions"].as_array().unwrap();
        let lifecycle = actions
            .iter()
            .find(|a| a["runbook"] == "findings.backfill-lifecycle")
            .unwrap();
        assert_eq!(lifecycle["action"], "started");
        assert_eq!(lifecycle["run"]["context"]["initiator"]["kind"], "deploy");
        assert_eq!(
            lifecycle["run"]["context"]["initiator"]["release"],
            "2026.11.3"
        );
        let ids = actions
            .iter()
            .find(|a| a["runbook"] == "workspaces.backfill-ids")
            .unwrap();
        assert_eq!(ids["action"], "nothing_to_do");

        let second = tenantatlas(url, &["deploy:hook", "--json"], &release, dir.path())
            .await
            .json();
        let again = second["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["runbook"] == "findings.backfill-lifecycle")
            .cloned()
            .unwrap();
        assert_eq!(again["action"], "already_running");
        assert_eq!(again["run"]["id"], lifecycle["run"]["id"]);

        let waited = tenantatlas(
            url,
            &["deploy:hook", "--wait", "--json"],
            &release,
            dir.path(),
        )
        .await;
        assert_eq!(waited.code, 0, "{}", waited.stderr);
        assert_eq!(waited.json()["runs"][0]["outcome"], "succeeded");
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 1);
    }
);
