//! The consoles over HTTP: start a run from /system and follow it, the JSON
//! API, notifications, the /admin plane, metrics, and the account commands
//! of the CLI — on both backends.

use std::io::Write;
use std::process::{Command, Stdio};

use tenantatlas::domain::Capability;
use tenantatlas::runs::Initiator;
use tenantatlas::service::{Actor, ScopeRequest};
use tenantatlas::storage::console;

use crate::both_backends;
use crate::web_support::*;

const LIFECYCLE: &str = "findings.backfill-lifecycle";

both_backends!(
    an_operator_starts_a_run_and_retries_its_failed_tenants,
    |t| async move {
        let app = &t.app;
        operator(app, "op@ops.test", &Capability::ALL).await;
        t.seed(3, 5, 1).await;
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "op@ops.test").await;

        // Preflight on the runbook page.
        let r = c
            .get(format!("{base}/system/runbooks/{LIFECYCLE}?scope=all"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"pf-tenants\">4<"),
            "3 seeded tenants and platform"
        );
        assert!(html.contains("id=\"pf-pending\">15<"));
        assert!(html.contains("id=\"start-form\""));
        let r = c
            .get(format!(
                "{base}/system/runbooks/{LIFECYCLE}?scope=tenant&tenant=nope"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // Start: 303 to the run.
        let tok = token_of(&html);
        let r = c
            .post(format!("{base}/system/runbooks/{LIFECYCLE}/start"))
            .form(&[
                ("_token", tok.as_str()),
                ("scope", "all"),
                ("tenant", ""),
                ("reason", "backfill after release"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let loc = location(&r);
        assert!(loc.starts_with("/system/runs/"), "{loc}");
        let id: i64 = loc.trim_start_matches("/system/runs/").parse().unwrap();
        let html = c
            .get(format!("{base}{loc}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("hx-get=\"/system/runs/"),
            "polls while active"
        );
        assert!(html.contains("op@ops.test"), "initiator shown");

        t.drain().await;
        let live = c
            .get(format!("{base}/system/runs/{id}/live"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!live.contains("hx-get"), "stops polling once completed");
        assert!(
            live.contains("data-outcome=\"partially succeeded\""),
            "{live}"
        );
        assert!(live.contains("finding.unknown_legacy_state"));
        assert!(live.contains("id=\"retry-link\""));

        // The JSON API answers the run in the Appendix A shape.
        let run: serde_json::Value = c
            .get(format!("{base}/system/api/runs/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for key in [
            "id",
            "type",
            "status",
            "outcome",
            "workspace_id",
            "tenant_id",
            "summary_counts",
            "failures",
            "context",
            "created_at",
            "started_at",
            "completed_at",
        ] {
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
        let html = c
            .get(format!("{base}/system/runs?outcome=partially_succeeded"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("/system/runs/{id}\"")));
        let html = c
            .get(format!("{base}/system/runs?outcome=succeeded"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains(&format!("/system/runs/{id}\"")));
        assert_eq!(
            c.get(format!("{base}/system/runs?status=bogus"))
                .send()
                .await
                .unwrap()
                .status(),
            422
        );

        // Retry the failed tenant, with confirmation.
        let confirm = c
            .get(format!("{base}/system/runs/{id}/retry-failed"))
            .send()
            .await
            .unwrap();
        assert_eq!(confirm.status(), 200);
        let tok = token_of(&confirm.text().await.unwrap());
        let r = c
            .post(format!("{base}/system/runs/{id}/retry-failed"))
            .form(&[("_token", tok.as_str()), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let retry_id: i64 = location(&r)
            .trim_start_matches("/system/runs/")
            .parse()
            .unwrap();
        assert_ne!(retry_id, id);
        let retry = app.runs().get(retry_id).await.unwrap();
        assert_eq!(retry.summary_counts.total, 1);

        // Cancel the retry with confirmation.
        let confirm = c
            .get(format!("{base}/system/runs/{retry_id}/cancel"))
            .send()
            .await
            .unwrap();
        let tok = token_of(&confirm.text().await.unwrap());
        let r = c
            .post(format!("{base}/system/runs/{retry_id}/cancel"))
            .form(&[("_token", tok.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            app.runs().get(retry_id).await.unwrap().outcome.as_str(),
            "cancelled"
        );
        // Cancelling twice is a conflict, not an error page of ours.
        let r = c
            .post(format!("{base}/system/runs/{retry_id}/cancel"))
            .form(&[("_token", tok.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);

        // The audit log page shows who did what.
        let html = c
            .get(format!("{base}/system/audit"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for action in [
            "login.succeeded",
            "runbook.preflight",
            "run.start",
            "run.retry_failed",
            "run.cancel",
        ] {
            assert!(html.contains(action), "{action} in the audit log");
        }
    }
);

both_backends!(the_json_api_starts_and_answers_runs, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &Capability::ALL).await;
    t.seed(2, 3, 0).await;
    let server = start(app).await;
    let base = &server.base;
    let c = signed_in(base, "system", "op@ops.test").await;
    let list: serde_json::Value = c
        .get(format!("{base}/system/api/runbooks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == LIFECYCLE)
    );
    let p: serde_json::Value = c
        .get(format!(
            "{base}/system/api/runbooks/{LIFECYCLE}/preflight?scope=tenant&tenant=platform"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["tenants"], 1);
    assert_eq!(p["can_start"], true);
    let url = format!("{base}/system/api/runbooks/{LIFECYCLE}/start");
    let body = serde_json::json!({"scope": "all", "reason": "api"});
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let run: serde_json::Value = r.json().await.unwrap();
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200, "the active run of the same scope");
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["id"],
        run["id"]
    );
    let r = c
        .post(format!("{base}/system/api/runs/{}/cancel", run["id"]))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["outcome"],
        "cancelled"
    );
    let runs: serde_json::Value = c
        .get(format!("{base}/system/api/runs?outcome=cancelled"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
});

both_backends!(
    a_viewer_sees_no_start_button_and_is_refused,
    |t| async move {
        let app = &t.app;
        operator(
            app,
            "viewer@ops.test",
            &[Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW],
        )
        .await;
        t.seed(1, 2, 0).await;
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "viewer@ops.test").await;
        let html = c
            .get(format!("{base}/system/runbooks/{LIFECYCLE}?scope=all"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"pf-pending\""));
        assert!(!html.contains("id=\"start-form\""));
        let tok = token_of(&html);
        let r = c
            .post(format!("{base}/system/runbooks/{LIFECYCLE}/start"))
            .form(&[
                ("_token", tok.as_str()),
                ("scope", "all"),
                ("reason", "sneaky"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
    }
);

both_backends!(
    the_bell_counts_unread_notifications_and_marks_them_read,
    |t| async move {
        let app = &t.app;
        let me = operator(app, "op@ops.test", &Capability::ALL).await;
        let other = operator(app, "other@ops.test", &Capability::ALL).await;
        let now = app.clock.now();
        let body = serde_json::json!({"outcome": "partially_succeeded", "failed": 1});
        for i in 0..2 {
            console::insert_notification(
                &app.db,
                me,
                "operation_run.completed",
                &format!("Run {i} completed"),
                &body,
                Some("/system/runs/1".into()),
                now,
            )
            .await
            .unwrap();
        }
        let theirs = console::insert_notification(
            &app.db,
            other,
            "operation_run.completed",
            "Theirs",
            &body,
            None,
            now,
        )
        .await
        .unwrap();
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "op@ops.test").await;
        let html = c
            .get(format!("{base}/system"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"unread-count\">2<"), "bell shows 2");
        assert!(html.contains("Run 1 completed") && !html.contains("Theirs"));
        let tok = token_of(&html);
        // Another operator's notification is not mine to mark.
        let r = c
            .post(format!("{base}/system/notifications/{theirs}/read"))
            .form(&[("_token", tok.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(console::unread_count(&app.db, other).await.unwrap(), 1);
        let mine = console::notifications(&app.db, me, true, 10, 0)
            .await
            .unwrap();
        let r = c
            .post(format!("{base}/system/notifications/{}/read", mine[0].id))
            .form(&[("_token", tok.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let html = c
            .get(format!("{base}/system/notifications"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"unread-count\">1<"));
        let r = c
            .post(format!("{base}/system/notifications/read-all"))
            .form(&[("_token", tok.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(console::unread_count(&app.db, me).await.unwrap(), 0);
    }
);

both_backends!(
    the_customer_plane_shows_its_workspace_read_only,
    |t| async move {
        let app = &t.app;
        customer(app, "user@acme.test").await;
        t.seed(2, 4, 0).await;
        let actor = Actor::trusted(Initiator::Cli { os_user: None });
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
        let r = c
            .get(format!("{base}/admin/findings?status=new"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("<td>new</td>"), "lifecycle status shown");
        assert!(html.contains("sev "), "severity shown");
        assert_eq!(
            c.get(format!("{base}/admin/findings?status=bogus"))
                .send()
                .await
                .unwrap()
                .status(),
            422
        );
        assert_eq!(
            c.get(format!("{base}/admin/findings?severity=nope"))
                .send()
                .await
                .unwrap()
                .status(),
            422
        );
        let html = c
            .get(format!("{base}/admin/runs"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("/admin/runs/{}\"", run.id)));
        let html = c
            .get(format!("{base}/admin/runs/{}", run.id))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // FR-001: nothing on the customer plane starts, cancels or retries.
        for word in ["/start", "/cancel", "retry-failed", "Start run"] {
            assert!(!html.contains(word), "{word} on /admin");
        }
        assert_eq!(
            c.get(format!("{base}/admin/runs/999999"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }
);

both_backends!(metrics_are_served_in_prometheus_text, |t| async move {
    let app = &t.app;
    let server = start(app).await;
    let c = client();
    let _ = login_as(
        &c,
        &server.base,
        "system",
        "nobody@ops.test",
        "wrong password!",
    )
    .await;
    let r = c
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
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

fn cli(db_url: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

both_backends!(
    the_cli_creates_accounts_and_refuses_bad_input,
    |t| async move {
        let url = t.db.url.clone();
        let pw = format!("{PASSWORD}\n");
        let bad: Vec<(Vec<&str>, &str)> = vec![
            (
                vec![
                    "platform-user",
                    "create",
                    "--email",
                    "nope",
                    "--name",
                    "N",
                    "--password-stdin",
                    "--all-capabilities",
                ],
                "email",
            ),
            (
                vec![
                    "platform-user",
                    "create",
                    "--email",
                    "a@b.test",
                    "--name",
                    "N",
                    "--password-stdin",
                ],
                "capability",
            ),
            (
                vec![
                    "platform-user",
                    "create",
                    "--email",
                    "a@b.test",
                    "--name",
                    "N",
                    "--password-stdin",
                    "--capability",
                    "platform.nope",
                ],
                "unknown capability",
            ),
            (
                vec![
                    "platform-user",
                    "create",
                    "--email",
                    "a@b.test",
                    "--name",
                    "N",
                    "--all-capabilities",
                ],
                "password-stdin",
            ),
            (
                vec![
                    "user",
                    "create",
                    "--email",
                    "u@b.test",
                    "--name",
                    "U",
                    "--workspace",
                    "nope",
                    "--password-stdin",
                ],
                "workspace",
            ),
        ];
        for (args, why) in bad {
            let (code, _, err) = tokio::task::spawn_blocking({
                let url = url.clone();
                let pw = pw.clone();
                let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
                move || {
                    cli(
                        &url,
                        &args.iter().map(String::as_str).collect::<Vec<_>>(),
                        &pw,
                    )
                }
            })
            .await
            .unwrap();
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(why), "{why} in {err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
        let short = tokio::task::spawn_blocking({
            let url = url.clone();
            move || {
                cli(
                    &url,
                    &[
                        "platform-user",
                        "create",
                        "--email",
                        "a@b.test",
                        "--name",
                        "N",
                        "--password-stdin",
                        "--all-capabilities",
                    ],
                    "short\n",
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(short.0, 2);
        assert_eq!(t.count("SELECT count(*) FROM platform_users").await, 0);
        assert_eq!(t.count("SELECT count(*) FROM users").await, 0);

        let ok = tokio::task::spawn_blocking({
            let (url, pw) = (url.clone(), pw.clone());
            move || {
                cli(
                    &url,
                    &[
                        "platform-user",
                        "create",
                        "--email",
                        " Ops@B.test ",
                        "--name",
                        "Ops",
                        "--password-stdin",
                        "--capability",
                        "platform.runbooks.view",
                        "platform.operations.view",
                    ],
                    &pw,
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(ok.0, 0, "{}", ok.2);
        let ok = tokio::task::spawn_blocking({
            let (url, pw) = (url.clone(), pw.clone());
            move || {
                cli(
                    &url,
                    &[
                        "user",
                        "create",
                        "--email",
                        "u@b.test",
                        "--name",
                        "U",
                        "--workspace",
                        "default",
                        "--password-stdin",
                    ],
                    &pw,
                )
            }
        })
        .await
        .unwrap();
        assert_eq!(ok.0, 0, "{}", ok.2);
        let server = start(&t.app).await;
        let c = signed_in(&server.base, "system", "ops@b.test").await;
        assert_eq!(
            c.get(format!("{}/system/runbooks", server.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let tok = token(&c, &format!("{}/system", server.base)).await;
        let r = c
            .post(format!("{}/system/runbooks/{LIFECYCLE}/start", server.base))
            .form(&[("_token", tok.as_str()), ("scope", "all"), ("reason", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "no platform.runbooks.run");
        signed_in(&server.base, "admin", "u@b.test").await;
    }
);
