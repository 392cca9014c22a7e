//! Notifications and alert routing against a real webhook receiver and a
//! real SMTP server on loopback; time moves by the manual clock.

use chrono::Duration;
use tenantatlas::alerts::{AlertSettings, Channel, RuleRequest};
use tenantatlas::app::App;
use tenantatlas::args;
use tenantatlas::domain::Actor;
use tenantatlas::domain::CapabilitySet;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{Initiator, Outcome};

use crate::both_backends;
use crate::support::receivers::{Answer, Smtp, Webhook};
use crate::support::runs::{cli, start_all};
use crate::support::{TestApp, drain};

use crate::support::runs::BACKFILL;

fn settings(smtp: Option<&Smtp>, timeout_ms: u64) -> AlertSettings {
    AlertSettings {
        public_url: "https://ops.example.test".into(),
        smtp_url: smtp.map(|s| s.url.clone()),
        mail_from: "TenantAtlas Ops <ops@example.test>".into(),
        timeout_ms,
        ..crate::support::loopback_alerts()
    }
}

/// A Teams destination, optionally an email one, and a rule sending both.
async fn route(app: &App, hook: &Webhook, email: bool, rule: RuleRequest) -> Vec<i64> {
    let alerts = app.alert_service();
    let mut ids = vec![
        alerts
            .add_destination(&cli(), "ops teams", Channel::teams(&hook.url).unwrap())
            .await
            .unwrap()
            .id,
    ];
    if email {
        let to = Channel::email(&["oncall@example.test".into()]).unwrap();
        ids.push(
            alerts
                .add_destination(&cli(), "oncall", to)
                .await
                .unwrap()
                .id,
        );
    }
    alerts
        .add_rule(
            &cli(),
            RuleRequest {
                destination_ids: ids.clone(),
                ..rule
            },
        )
        .await
        .unwrap();
    ids
}

fn failed_rule() -> RuleRequest {
    RuleRequest {
        name: "failures".into(),
        event: "operation_run.failed".into(),
        ..Default::default()
    }
}

async fn failing_run(t: &TestApp, app: &App) -> i64 {
    let run = start_all(app, BACKFILL).await.run;
    drain(app).await;
    let run = t.app.runs().get(run.id).await.unwrap();
    assert_ne!(run.outcome, Outcome::Succeeded);
    run.id
}

async fn deliveries(app: &App) -> Vec<tenantatlas::alerts::DeliveryView> {
    app.alert_service().deliveries(&cli(), 100).await.unwrap()
}

both_backends!(
    a_partially_failed_run_posts_one_card_and_sends_one_email,
    |t| async move {
        let (hook, smtp) = (Webhook::start(&[]).await, Smtp::start().await);
        let app = t.app_with_alerts(settings(Some(&smtp), 2_000));
        route(&app, &hook, true, failed_rule()).await;
        t.seed(2, 4, 1).await;
        let run_id = failing_run(t, &app).await;

        let posts = hook.accepted();
        assert_eq!(posts.len(), 1, "exactly one Teams post");
        let card = &posts[0]["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        let action = &card["content"]["actions"][0];
        assert_eq!(action["title"], "View run");
        assert_eq!(
            action["url"],
            format!("https://ops.example.test/system/runs/{run_id}")
        );
        let text = card["content"].to_string();
        assert!(
            text.contains("partially_succeeded") && text.contains("finding.unknown_legacy_state"),
            "{text}"
        );

        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "exactly one email");
        assert!(mails[0].to[0].contains("oncall@example.test"));
        assert!(mails[0].from.contains("ops@example.test"));
        assert!(mails[0].data.contains("text/plain") && mails[0].data.contains("text/html"));
        assert!(mails[0].data.contains(&format!("/system/runs/{run_id}")));

        let ds = deliveries(&app).await;
        assert_eq!(ds.len(), 2);
        assert!(
            ds.iter()
                .all(|d| d.status == "sent" && d.attempts == 1 && d.sent_at.is_some()),
            "{ds:?}"
        );
    }
);

both_backends!(
    a_succeeded_run_and_a_workspace_without_rules_send_nothing,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        let app = t.app_with_alerts(settings(None, 2_000));
        t.seed(1, 3, 1).await;
        failing_run(t, &app).await;
        assert!(deliveries(&app).await.is_empty(), "no rule, no alert");
        route(&app, &hook, false, failed_rule()).await;
        t.exec("UPDATE findings SET legacy_state = 'open' WHERE legacy_state = 'archived'")
            .await;
        let run = start_all(&app, BACKFILL).await.run;
        drain(&app).await;
        assert_eq!(
            t.app.runs().get(run.id).await.unwrap().outcome,
            Outcome::Succeeded
        );
        assert_eq!(hook.requests(), 0);
    }
);

both_backends!(
    a_second_failure_inside_the_cooldown_is_suppressed,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        let app = t.app_with_alerts(settings(None, 2_000));
        route(
            &app,
            &hook,
            false,
            RuleRequest {
                cooldown_seconds: Some(3600),
                ..failed_rule()
            },
        )
        .await;
        t.seed(1, 3, 1).await;
        failing_run(t, &app).await;
        t.clock.advance(Duration::minutes(10));
        failing_run(t, &app).await;
        assert_eq!(hook.requests(), 1, "the second alert is not sent");
        let statuses: Vec<String> = deliveries(&app)
            .await
            .into_iter()
            .map(|d| d.status)
            .collect();
        assert_eq!(
            statuses,
            vec!["suppressed", "sent"],
            "newest first, and recorded"
        );
        // After the cooldown the rule alerts again.
        t.clock.advance(Duration::minutes(55));
        failing_run(t, &app).await;
        assert_eq!(hook.requests(), 2);
    }
);

both_backends!(quiet_hours_defer_until_the_window_ends, |t| async move {
    let hook = Webhook::start(&[]).await;
    let app = t.app_with_alerts(settings(None, 2_000));
    // The test clock starts at 12:00 UTC = 13:00 in Berlin.
    let rule = RuleRequest {
        quiet_hours: Some("12:30-14:00".into()),
        timezone: Some("Europe/Berlin".into()),
        ..failed_rule()
    };
    route(&app, &hook, false, rule).await;
    t.seed(1, 3, 1).await;
    failing_run(t, &app).await;
    assert_eq!(hook.requests(), 0, "nothing is sent in quiet hours");
    let d = &deliveries(&app).await[0];
    assert_eq!(d.status, "deferred");
    assert_eq!(
        d.deliver_after.unwrap().to_rfc3339(),
        "2026-03-01T13:00:00+00:00"
    );
    t.clock.advance(Duration::minutes(59));
    drain(&app).await;
    assert_eq!(hook.requests(), 0, "still quiet at 13:59");
    t.clock.advance(Duration::minutes(1));
    drain(&app).await;
    assert_eq!(hook.accepted().len(), 1, "sent when the window ends");
    assert_eq!(deliveries(&app).await[0].status, "sent");
});

both_backends!(
    a_failing_receiver_gets_the_message_once_after_retries,
    |t| async move {
        let hook = Webhook::start(&[Answer::Status(500), Answer::Loud(429)]).await;
        let app = t.app_with_alerts(settings(None, 2_000));
        route(&app, &hook, false, failed_rule()).await;
        t.seed(1, 3, 1).await;
        failing_run(t, &app).await;
        assert_eq!(hook.requests(), 1);
        let d = &deliveries(&app).await[0];
        assert_eq!(d.status, "queued");
        assert!(
            d.last_error.as_deref().unwrap().contains("HTTP 500"),
            "{d:?}"
        );
        assert!(
            !d.last_error.as_deref().unwrap().contains("secret-token"),
            "the webhook URL is a secret"
        );
        // Backoff: 1 s, then 2 s (test settings).
        t.clock.advance(Duration::seconds(1));
        drain(&app).await;
        assert_eq!(hook.requests(), 2);
        // A 5 MB answer: its start on one line, not the whole of it.
        let error = deliveries(&app).await[0]
            .last_error
            .clone()
            .unwrap_or_default();
        assert!(
            error.contains("HTTP 429: slow down slow down"),
            "{error:.300}"
        );
        assert!(error.len() < 400 && error.ends_with('…'), "{error:.500}");
        t.clock.advance(Duration::seconds(2));
        drain(&app).await;
        assert_eq!(hook.requests(), 3);
        assert_eq!(hook.accepted().len(), 1, "received once");
        let d = &deliveries(&app).await[0];
        assert_eq!((d.status.as_str(), d.attempts), ("sent", 3));

        // A delivery job claimed again after it was sent (its worker crashed
        // before finishing the job) does not send again.
        t.exec("UPDATE jobs SET status = 'available', run_at_ms = 0 WHERE kind = 'alert.delivery'")
            .await;
        drain(&app).await;
        assert_eq!(hook.requests(), 3);
    }
);

both_backends!(
    a_receiver_that_never_answers_ends_failed_with_the_error,
    |t| async move {
        let hook = Webhook::start(&[Answer::Hang, Answer::Hang, Answer::Hang]).await;
        let app = t.app_with_alerts(settings(None, 300));
        route(&app, &hook, false, failed_rule()).await;
        t.seed(1, 3, 1).await;
        failing_run(t, &app).await;
        t.clock.advance(Duration::seconds(1));
        drain(&app).await;
        t.clock.advance(Duration::seconds(2));
        drain(&app).await;
        let d = &deliveries(&app).await[0];
        assert_eq!(d.status, "failed");
        assert_eq!(d.attempts, 3);
        assert!(
            d.last_error.as_deref().unwrap().contains("timed out"),
            "{d:?}"
        );
        assert_eq!(
            t.count(
                "SELECT count(*) FROM jobs WHERE kind = 'alert.delivery' AND status = 'discarded'"
            )
            .await,
            1
        );
    }
);

both_backends!(
    the_platform_initiator_gets_a_notification_and_the_cli_none,
    |t| async move {
        let user: i64 = t
            .app
            .db
            .scalar(
                "INSERT INTO platform_users (email, name, password_hash, capabilities, created_at) \
             VALUES ('op@example.test', 'Op', 'x', '', $1) RETURNING id",
                args![t.app.clock.now()],
            )
            .await
            .unwrap();
        let operator = Actor {
            initiator: Initiator::PlatformUser {
                id: user,
                email: "op@example.test".into(),
            },
            capabilities: CapabilitySet::all(),
            ip: Some("127.0.0.1".into()),
        };
        t.seed(1, 3, 0).await;
        let run = t
            .app
            .runbooks()
            .start(
                &operator,
                BACKFILL,
                &ScopeRequest::AllTenants,
                Some("monthly"),
            )
            .await
            .unwrap()
            .run;
        t.drain().await;
        let rows: Vec<(String, String, String)> = t
            .app
            .db
            .fetch_all(
                "SELECT kind, title, url FROM notifications WHERE platform_user_id = $1",
                args![user],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "operation_run.completed");
        assert!(rows[0].1.contains("succeeded"), "{}", rows[0].1);
        assert_eq!(rows[0].2, format!("/system/runs/{}", run.id));

        let by_cli = start_all(&t.app, BACKFILL).await.run;
        t.drain().await;
        assert!(
            t.app
                .runs()
                .get(by_cli.id)
                .await
                .unwrap()
                .completed_at
                .is_some()
        );
        assert_eq!(
            t.count("SELECT count(*) FROM notifications").await,
            1,
            "no initiator, no notification"
        );
    }
);

both_backends!(
    bad_alert_input_is_refused_and_writes_nothing,
    |t| async move {
        let bin = crate::support::cli::Binary::new(&t.db.url, &[]);
        let destination = "alerts destination add --type";
        let rule = "alerts rule add --name r --event";
        let cases = [
            (
                format!("{destination} teams --name x --url ftp://example.com/x"),
                "http",
            ),
            (
                format!("{destination} teams --name x --url 'not a url'"),
                "url",
            ),
            (format!("{destination} email --name x --to nobody"), "email"),
            (format!("{destination} slack --name x"), "invalid value"),
            (
                format!("{rule} operation_run.failed --destination 999"),
                "does not exist",
            ),
            (
                format!("{rule} run.exploded --destination 1"),
                "unknown event",
            ),
        ];
        for (args, expected) in cases {
            let out = bin.run(&args).await;
            assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
            assert!(
                out.stderr.to_lowercase().contains(expected),
                "{args:?}: {}",
                out.stderr
            );
        }
        let secret = "https://hooks.example.test/webhookb2/secret";
        let added = bin
            .run(&format!(
                "{destination} teams --name ops --url {secret} --json"
            ))
            .await;
        assert_eq!(added.code, 0, "{}", added.stderr);
        assert!(!added.stdout.contains("secret"), "masked: {}", added.stdout);
        let id = added.json()["id"].to_string();
        let rule = format!("{rule} operation_run.failed --destination {id}");
        for (extra, expected) in [
            (
                "--quiet-hours 22:00-07:00 --timezone Mars/Base",
                "time zone",
            ),
            ("--quiet-hours 22-7 --timezone UTC", "22:00-07:00"),
            ("--quiet-hours '' --timezone UTC", "22:00-07:00"),
            ("--quiet-hours 08:00-08:00 --timezone UTC", "empty"),
            ("--cooldown-seconds -5", "cooldown"),
            ("--min-severity urgent", "severity"),
        ] {
            let out = bin.run(&format!("{rule} {extra}")).await;
            assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
            assert!(out.stderr.contains(expected), "{extra:?}: {}", out.stderr);
        }
        assert_eq!(t.count("SELECT count(*) FROM alert_rules").await, 0);
        assert_eq!(t.count("SELECT count(*) FROM alert_destinations").await, 1);
        let berlin = "--quiet-hours 22:00-07:00 --timezone Europe/Berlin --json";
        let ok = bin.run(&format!("{rule} {berlin}")).await;
        assert_eq!(ok.code, 0, "{}", ok.stderr);
        assert_eq!(ok.json()["timezone"], "Europe/Berlin");
        let listed = bin.run("alerts deliveries list --json").await;
        assert_eq!(listed.json(), serde_json::json!([]));
    }
);

both_backends!(
    a_retry_over_hundreds_of_failed_tenants_completes_and_alerts,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        route(&t.app, &hook, false, failed_rule()).await;
        // Every tenant fails: the retry's scope lists 700 tenant ids, more
        // than an index key may hold on PostgreSQL.
        t.seed(700, 1, 700).await;
        let first = failing_run(t, &t.app).await;
        let retry = t
            .app
            .runs()
            .retry_failed(&cli(), first, None)
            .await
            .unwrap()
            .run;
        drain(&t.app).await;
        let retry = t.app.runs().get(retry.id).await.unwrap();
        assert!(!retry.is_active(), "the retry completed");
        assert_eq!(retry.summary_counts.processed, 700);
        assert_eq!(retry.outcome, Outcome::Failed);
        let sent = deliveries(&t.app).await;
        assert_eq!(sent.len(), 2, "one alert per failed run: {sent:?}");
        assert!(sent.iter().all(|d| d.status == "sent"), "{sent:?}");
        assert_eq!(hook.accepted().len(), 2);
    }
);
