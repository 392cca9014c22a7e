//! The consoles over HTTP: start a run from /system and follow it, the JSON
//! API, notifications, the /admin plane, metrics, and the account commands
//! of the CLI — on both backends.

use std::io::Write;
use std::process::{Command, Stdio};

use tenantatlas::domain::Capability;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::storage::notifications;

use crate::both_backends;
use crate::support::web::*;
use crate::support::{TestApp, argv};

use crate::support::runs::BACKFILL as LIFECYCLE;

both_backends!(
    an_operator_starts_a_run_and_retries_its_failed_tenants,
    |t| async move {
        let app = &t.app;
        t.seed(3, 5, 1).await;
        let (_server, base, c) = console_as(app, "op@ops.test", &Capability::ALL).await;

        // Preflight on the runbook page.
        let runbook = format!("{base}/system/runbooks/{LIFECYCLE}");
        let r = assert_status(c.get(format!("{runbook}?scope=all")), 200).await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"pf-tenants\">4<"),
            "3 seeded tenants and platform"
        );
        assert!(html.contains("id=\"pf-pending\">15<"));
        assert!(html.contains("id=\"start-form\""));
        assert_status(c.get(format!("{runbook}?scope=tenant&tenant=nope")), 404).await;

        // Start: 303 to the run.
        let tok = token_of(&html);
        let reason = "backfill after release";
        let fields = [
            ("_token", tok.as_str()),
            ("scope", "all"),
            ("tenant", ""),
            ("reason", reason),
        ];
        let r = assert_status(c.post(format!("{runbook}/start")).form(&fields), 303).await;
        let loc = location(&r);
        assert!(loc.starts_with("/system/runs/"), "{loc}");
        let id: i64 = loc.trim_start_matches("/system/runs/").parse().unwrap();
        let html = get_html(&c, format!("{base}{loc}")).await;
        assert!(
            html.contains("hx-get=\"/system/runs/"),
            "polls while active"
        );
        assert!(html.contains("op@ops.test"), "initiator shown");

        t.drain().await;
        let live = get_html(&c, format!("{base}/system/runs/{id}/live")).await;
        assert!(!live.contains("hx-get"), "stops polling once completed");
        assert!(
            live.contains("data-outcome=\"partially succeeded\""),
            "{live}"
        );
        assert!(live.contains("finding.unknown_legacy_state"));
        assert!(live.contains("id=\"retry-link\""));

        // The JSON API answers the run in the Appendix A shape.
        let run = get_json(&c, format!("{base}/system/api/runs/{id}")).await;
        let keys = "id type status outcome workspace_id tenant_id summary_counts failures \
                    context created_at started_at completed_at";
        for key in keys.split_whitespace() {
            assert!(run.get(key).is_some(), "{key} in {run}");
        }
        assert_eq!(run["outcome"], "partially_succeeded");
        assert_eq!(run["summary_counts"]["failed"], 1);
        assert_eq!(run["context"]["initiator"]["kind"], "platform_user");
        assert_eq!(run["context"]["reason"], "backfill after release");
        assert_eq!(
            run["failures"][0]["reason_code"],
            "finding.unknown_legacy_state"
        );

        // Runs list with filters.
        let runs = format!("{base}/system/runs");
        let listed = get_html(&c, format!("{runs}?outcome=partially_succeeded")).await;
        assert!(listed.contains(&format!("/system/runs/{id}\"")));
        let listed = get_html(&c, format!("{runs}?outcome=succeeded")).await;
        assert!(!listed.contains(&format!("/system/runs/{id}\"")));
        assert_status(c.get(format!("{runs}?status=bogus")), 422).await;

        // Retry the failed tenant, with confirmation.
        let retry_url = format!("{runs}/{id}/retry-failed");
        let confirm = assert_status(c.get(&retry_url), 200).await;
        let tok = token_of(&confirm.text().await.unwrap());
        let fields = [("_token", tok.as_str()), ("reason", "")];
        let r = assert_status(c.post(&retry_url).form(&fields), 303).await;
        let retry_id: i64 = location(&r)
            .trim_start_matches("/system/runs/")
            .parse()
            .unwrap();
        assert_ne!(retry_id, id);
        let retry = app.runs().get(retry_id).await.unwrap();
        assert_eq!(retry.summary_counts.total, 1);

        // Cancel the retry with confirmation.
        let cancel_url = format!("{runs}/{retry_id}/cancel");
        let tok = token(&c, &cancel_url).await;
        let cancel = [("_token", tok.as_str())];
        assert_status(c.post(&cancel_url).form(&cancel), 303).await;
        assert_eq!(
            app.runs().get(retry_id).await.unwrap().outcome.as_str(),
            "cancelled"
        );
        // Cancelling twice is a conflict, not an error page of ours.
        assert_status(c.post(&cancel_url).form(&cancel), 409).await;

        // The audit log page shows who did what.
        let audit = get_html(&c, format!("{base}/system/audit")).await;
        let actions = "login.succeeded runbook.preflight run.start run.retry_failed run.cancel";
        for action in actions.split(' ') {
            assert!(audit.contains(action), "{action} in the audit log");
        }
    }
);

both_backends!(the_json_api_starts_and_answers_runs, |t| async move {
    let app = &t.app;
    t.seed(2, 3, 0).await;
    let (_server, base, c) = console_as(app, "op@ops.test", &Capability::ALL).await;
    let api = format!("{base}/system/api");
    let list = get_json(&c, format!("{api}/runbooks")).await;
    let keys: Vec<&serde_json::Value> =
        list.as_array().unwrap().iter().map(|r| &r["key"]).collect();
    assert!(keys.iter().any(|k| *k == LIFECYCLE));
    let preflight = "preflight?scope=tenant&tenant=platform";
    let p = get_json(&c, format!("{api}/runbooks/{LIFECYCLE}/{preflight}")).await;
    assert_eq!(p["tenants"], 1);
    assert_eq!(p["can_start"], true);
    let url = format!("{api}/runbooks/{LIFECYCLE}/start");
    let body = serde_json::json!({"scope": "all", "reason": "api"});
    let run: serde_json::Value = assert_status(c.post(&url).json(&body), 201)
        .await
        .json()
        .await
        .unwrap();
    let r = send(c.post(&url).json(&body)).await;
    assert_eq!(r.status(), 200, "the active run of the same scope");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["id"],
        run["id"]
    );
    let cancel = c.post(format!("{api}/runs/{}/cancel", run["id"]));
    let r = assert_status(cancel.json(&serde_json::json!({})), 200).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["outcome"],
        "cancelled"
    );
    let runs = get_json(&c, format!("{api}/runs?outcome=cancelled")).await;
    assert_eq!(runs.as_array().unwrap().len(), 1);
});

both_backends!(
    a_viewer_sees_no_start_button_and_is_refused,
    |t| async move {
        let app = &t.app;
        let viewer = [Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW];
        t.seed(1, 2, 0).await;
        let (_server, base, c) = console_as(app, "viewer@ops.test", &viewer).await;
        let runbook = format!("{base}/system/runbooks/{LIFECYCLE}");
        let html = get_html(&c, format!("{runbook}?scope=all")).await;
        assert!(html.contains("id=\"pf-pending\""));
        assert!(!html.contains("id=\"start-form\""));
        let tok = token_of(&html);
        let fields = [
            ("_token", tok.as_str()),
            ("scope", "all"),
            ("reason", "sneaky"),
        ];
        assert_status(c.post(format!("{runbook}/start")).form(&fields), 403).await;
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
    }
);

/// A run-completed notification for a platform user.
async fn notify(t: &TestApp, user: i64, title: &str, url: Option<String>) -> i64 {
    let body = serde_json::json!({"outcome": "partially_succeeded", "failed": 1});
    let (kind, now) = ("operation_run.completed", t.app.clock.now());
    let url = url.unwrap_or_default();
    let mut tx = t.app.db.begin().await.unwrap();
    let id = notifications::insert(&mut tx, user, kind, title, &body.to_string(), &url, now)
        .await
        .unwrap()
        .expect("the user exists");
    tx.commit().await.unwrap();
    id
}

both_backends!(
    the_bell_counts_unread_notifications_and_marks_them_read,
    |t| async move {
        let app = &t.app;
        let me = operator(app, "op@ops.test", &Capability::ALL).await;
        let other = operator(app, "other@ops.test", &Capability::ALL).await;
        for i in 0..2 {
            let title = format!("Run {i} completed");
            notify(t, me, &title, Some("/system/runs/1".into())).await;
        }
        let theirs = notify(t, other, "Theirs", None).await;
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "op@ops.test").await;
        let html = get_html(&c, format!("{base}/system")).await;
        assert!(html.contains("id=\"unread-count\">2<"), "bell shows 2");
        assert!(html.contains("Run 1 completed") && !html.contains("Theirs"));
        let tok = token_of(&html);
        let signed = [("_token", tok.as_str())];
        let notifications = format!("{base}/system/notifications");
        // Another operator's notification is not mine to mark.
        let read_theirs = c.post(format!("{notifications}/{theirs}/read"));
        assert_status(read_theirs.form(&signed), 303).await;
        assert_eq!(
            notifications::unread_count(&app.db, other).await.unwrap(),
            1
        );
        let mine = notifications::notifications(&app.db, me, true, 10, 0)
            .await
            .unwrap();
        let read_mine = c.post(format!("{notifications}/{}/read", mine[0].id));
        assert_status(read_mine.form(&signed), 303).await;
        let html = get_html(&c, &notifications).await;
        assert!(html.contains("id=\"unread-count\">1<"));
        let read_all = c.post(format!("{notifications}/read-all"));
        assert_status(read_all.form(&signed), 303).await;
        assert_eq!(notifications::unread_count(&app.db, me).await.unwrap(), 0);
    }
);

both_backends!(
    the_customer_plane_shows_its_workspace_read_only,
    |t| async move {
        let app = &t.app;
        customer(app, "user@acme.test").await;
        t.seed(2, 4, 0).await;
        let actor = crate::support::runs::cli();
        let run = app
            .runbooks()
            .start(&actor, LIFECYCLE, &ScopeRequest::AllTenants, None)
            .await
            .unwrap()
            .run;
        t.drain().await;
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "admin", "user@acme.test").await;
        let findings = format!("{base}/admin/findings");
        let r = assert_status(c.get(format!("{findings}?status=new")), 200).await;
        let html = r.text().await.unwrap();
        assert!(html.contains("<td>new</td>"), "lifecycle status shown");
        assert!(html.contains("sev "), "severity shown");
        assert_status(c.get(format!("{findings}?status=bogus")), 422).await;
        assert_status(c.get(format!("{findings}?severity=nope")), 422).await;
        let listed = get_html(&c, format!("{base}/admin/runs")).await;
        assert!(listed.contains(&format!("/admin/runs/{}\"", run.id)));
        let shown = get_html(&c, format!("{base}/admin/runs/{}", run.id)).await;
        // FR-001: nothing on the customer plane starts, cancels or retries.
        for word in ["/start", "/cancel", "retry-failed", "Start run"] {
            assert!(!shown.contains(word), "{word} on /admin");
        }
        assert_status(c.get(format!("{base}/admin/runs/999999")), 404).await;
    }
);

both_backends!(metrics_are_served_in_prometheus_text, |t| async move {
    let app = &t.app;
    let server = start(app).await;
    let c = client();
    let (base, wrong) = (&server.base, "wrong password!");
    let _ = login_as(&c, base, "system", "nobody@ops.test", wrong).await;
    let r = assert_status(c.get(format!("{base}/metrics")), 200).await;
    let text = r.text().await.unwrap();
    for name in [
        "tenantatlas_login_attempts_total",
        "tenantatlas_http_requests_total",
        "tenantatlas_queue_depth",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
    assert!(text.contains("route=\"/system/login\""));
});

/// Runs the binary with `stdin` (off the runtime's threads): exit code, stdout, stderr.
async fn cli(db_url: &str, line: &str, stdin: &str) -> (i32, String, String) {
    let (db_url, args, stdin) = (db_url.to_owned(), argv(line), stdin.to_owned());
    let run = move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
            .args(&args)
            .env("DATABASE_URL", db_url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the CLI");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    };
    tokio::task::spawn_blocking(run).await.unwrap()
}

both_backends!(
    the_cli_creates_accounts_and_refuses_bad_input,
    |t| async move {
        let url = t.db.url.clone();
        let pw = format!("{PASSWORD}\n");
        let operator = "platform-user create --email a@b.test --name N";
        let bad = [
            (
                "platform-user create --email nope --name N --password-stdin --all-capabilities",
                "email",
            ),
            (&format!("{operator} --password-stdin"), "capability"),
            (
                &format!("{operator} --password-stdin --capability platform.nope"),
                "unknown capability",
            ),
            (&format!("{operator} --all-capabilities"), "password-stdin"),
            (
                "user create --email u@b.test --name U --workspace nope --password-stdin",
                "workspace",
            ),
        ];
        for (args, why) in bad {
            let (code, _, err) = cli(&url, args, &pw).await;
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(why), "{why} in {err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
        let all = format!("{operator} --password-stdin --all-capabilities");
        let short = cli(&url, &all, "short\n").await;
        assert_eq!(short.0, 2);
        assert_eq!(t.count("SELECT count(*) FROM platform_users").await, 0);
        assert_eq!(t.count("SELECT count(*) FROM users").await, 0);

        let ok = cli(
            &url,
            "platform-user create --email ' Ops@B.test ' --name Ops --password-stdin \
             --capability platform.runbooks.view platform.operations.view",
            &pw,
        )
        .await;
        assert_eq!(ok.0, 0, "{}", ok.2);
        let user = "user create --email u@b.test --name U --workspace default --password-stdin";
        let ok = cli(&url, user, &pw).await;
        assert_eq!(ok.0, 0, "{}", ok.2);
        let server = start(&t.app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "ops@b.test").await;
        assert_status(c.get(format!("{base}/system/runbooks")), 200).await;
        let tok = token(&c, &format!("{base}/system")).await;
        let fields = [("_token", tok.as_str()), ("scope", "all"), ("reason", "x")];
        let r = post_form(
            &c,
            format!("{base}/system/runbooks/{LIFECYCLE}/start"),
            &fields,
        )
        .await;
        assert_eq!(r.status(), 403, "no platform.runbooks.run");
        signed_in(base, "admin", "u@b.test").await;
    }
);
