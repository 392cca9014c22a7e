//! The recovery notice (`operation_run.recovered`) and the lockout alert
//! (`auth.login_throttled`) against a real webhook receiver and a real SMTP
//! server on loopback; time moves by the manual clock.

use chrono::Duration;
use tenantatlas::accounts::{Plane, SignInLimits, SignInOutcome};
use tenantatlas::alerts::{AlertSettings, Channel, DeliveryView, RuleRequest};
use tenantatlas::app::App;
use tenantatlas::domain::{Actor, Capability, CapabilitySet};
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{Initiator, Outcome};

use crate::both_backends;
use crate::support::receivers::{Smtp, Webhook};
use crate::support::runs::cli;
use crate::support::web::operator;
use crate::support::{TestApp, drain};

use crate::support::runs::BACKFILL;
const PUBLIC: &str = "https://ops.example.test";

fn settings(smtp: Option<&Smtp>) -> AlertSettings {
    AlertSettings {
        public_url: PUBLIC.into(),
        smtp_url: smtp.map(|s| s.url.clone()),
        mail_from: "TenantAtlas Ops <ops@example.test>".into(),
        timeout_ms: 2_000,
        ..crate::support::loopback_alerts()
    }
}

async fn destination(app: &App, name: &str, channel: Channel) -> i64 {
    app.alert_service()
        .add_destination(&cli(), name, channel)
        .await
        .unwrap()
        .id
}

async fn rule(app: &App, name: &str, event: &str, destination: i64, extra: RuleRequest) -> i64 {
    let req = RuleRequest {
        name: name.into(),
        event: event.into(),
        destination_ids: vec![destination],
        ..extra
    };
    app.alert_service().add_rule(&cli(), req).await.unwrap().id
}

async fn deliveries(app: &App) -> Vec<DeliveryView> {
    app.alert_service().deliveries(&cli(), 100).await.unwrap()
}

fn of_event<'a>(ds: &'a [DeliveryView], event: &str) -> Vec<&'a DeliveryView> {
    ds.iter().filter(|d| d.event == event).collect()
}

/// Runs the backfill over all tenants as `actor`, works the queue empty,
/// and returns the run's id and outcome.
async fn run_as(t: &TestApp, app: &App, actor: &Actor) -> (i64, Outcome) {
    let run = app
        .runbooks()
        .start(
            actor,
            BACKFILL,
            &ScopeRequest::AllTenants,
            Some("recovery test"),
        )
        .await
        .unwrap()
        .run;
    drain(app).await;
    let run = t.app.runs().get(run.id).await.unwrap();
    (run.id, run.outcome)
}

/// Puts one finding back to work in a legacy state the runbook refuses.
async fn break_one_finding(t: &TestApp) {
    t.exec(
        "UPDATE findings SET lifecycle_version = NULL, legacy_state = 'mystery' \
         WHERE id = (SELECT min(id) FROM findings)",
    )
    .await;
}

async fn repair_findings(t: &TestApp) {
    t.exec("UPDATE findings SET legacy_state = 'open' WHERE legacy_state = 'mystery'")
        .await;
}

both_backends!(
    a_success_after_a_failure_is_announced_once_and_only_then,
    |t| async move {
        let (hook, smtp) = (Webhook::start(&[]).await, Smtp::start().await);
        let app = t.app_with_alerts(settings(Some(&smtp)));
        let teams = destination(&app, "ops teams", Channel::teams(&hook.url).unwrap()).await;
        let to = Channel::email(&["oncall@example.test".into()]).unwrap();
        let email = destination(&app, "oncall", to).await;
        let recovered = "operation_run.recovered";
        let rule_teams = rule(&app, "back to green", recovered, teams, Default::default()).await;
        // A rule's minimum severity does not hold a notice back.
        let high = RuleRequest {
            min_severity: Some("high".into()),
            ..Default::default()
        };
        let rule_mail = rule(&app, "recoveries by mail", recovered, email, high).await;
        let me = operator(&app, "op@ops.test", &Capability::ALL).await;
        let actor = Actor {
            initiator: Initiator::PlatformUser {
                id: me,
                email: "op@ops.test".into(),
            },
            capabilities: CapabilitySet::of(&Capability::ALL),
            ip: None,
        };
        t.seed(2, 3, 0).await;

        // No predecessor, then succeeded after succeeded: nothing.
        assert_eq!(run_as(t, &app, &actor).await.1, Outcome::Succeeded);
        assert_eq!(run_as(t, &app, &actor).await.1, Outcome::Succeeded);
        assert!(of_event(&deliveries(&app).await, recovered).is_empty());

        // A partial failure, then a success: one delivery per subscribed rule.
        break_one_finding(t).await;
        let (failed, outcome) = run_as(t, &app, &actor).await;
        assert_eq!(outcome, Outcome::PartiallySucceeded);
        assert!(of_event(&deliveries(&app).await, recovered).is_empty());
        repair_findings(t).await;
        let (green, outcome) = run_as(t, &app, &actor).await;
        assert_eq!(outcome, Outcome::Succeeded);
        let ds = deliveries(&app).await;
        let notices = of_event(&ds, recovered);
        assert_eq!(notices.len(), 2, "one per rule: {ds:?}");
        let mut rules: Vec<i64> = notices.iter().filter_map(|d| d.rule_id).collect();
        rules.sort();
        assert_eq!(rules, vec![rule_teams, rule_mail]);
        assert!(notices.iter().all(|d| d.status == "sent"), "{notices:?}");

        // The Teams card says what recovered and links both runs.
        let posts = hook.accepted();
        assert_eq!(posts.len(), 1, "exactly one Teams post");
        let content = &posts[0]["attachments"][0]["content"];
        let text = content.to_string();
        assert!(text.contains(&format!("Run {green} recovered")), "{text}");
        assert!(
            text.contains(BACKFILL) && text.contains("all tenants"),
            "{text}"
        );
        let urls: Vec<&str> = content["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["url"].as_str())
            .collect();
        assert_eq!(
            urls,
            vec![
                format!("{PUBLIC}/system/runs/{green}"),
                format!("{PUBLIC}/system/runs/{failed}")
            ]
        );
        // So does the email.
        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "exactly one email");
        let data = mails[0].data.replace("=\r\n", "");
        assert!(data.contains("recovered"), "{data}");
        assert!(data.contains(&format!("/system/runs/{green}")));
        assert!(data.contains(&format!("/system/runs/{failed}")));

        // The initiator's notification says it too.
        let note: (String, String) = t
            .app
            .db
            .fetch_one(
                "SELECT title, body FROM notifications WHERE body LIKE $1",
                tenantatlas::args![format!("%\"run_id\":{green}%")],
            )
            .await
            .unwrap();
        assert!(note.0.contains("recovered"), "{}", note.0);
        let body: serde_json::Value = serde_json::from_str(&note.1).unwrap();
        assert_eq!(body["recovered_from"]["run_id"], failed);
        assert_eq!(body["recovered_from"]["outcome"], "partially_succeeded");

        // A second success recovers nothing.
        assert_eq!(run_as(t, &app, &actor).await.1, Outcome::Succeeded);
        assert_eq!(of_event(&deliveries(&app).await, recovered).len(), 2);
        assert_eq!(hook.accepted().len(), 1);
    }
);

both_backends!(
    recovery_notices_keep_cooldown_and_quiet_hours,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        let app = t.app_with_alerts(settings(None));
        let teams = destination(&app, "ops teams", Channel::teams(&hook.url).unwrap()).await;
        let recovered = "operation_run.recovered";
        let cooling = RuleRequest {
            cooldown_seconds: Some(3_600),
            ..Default::default()
        };
        let cool = rule(&app, "cooling", recovered, teams, cooling).await;
        // The manual clock stands at 12:00 UTC.
        let quiet = RuleRequest {
            quiet_hours: Some("11:00-13:00".into()),
            timezone: Some("UTC".into()),
            ..Default::default()
        };
        let night = rule(&app, "quiet", recovered, teams, quiet).await;
        t.seed(2, 3, 0).await;
        for round in 0..2 {
            break_one_finding(t).await;
            assert_eq!(run_as(t, &app, &cli()).await.1, Outcome::PartiallySucceeded);
            repair_findings(t).await;
            assert_eq!(run_as(t, &app, &cli()).await.1, Outcome::Succeeded);
            let ds = deliveries(&app).await;
            let of_rule = |rule: i64| -> Vec<String> {
                ds.iter()
                    .filter(|d| d.rule_id == Some(rule))
                    .map(|d| d.status.clone())
                    .collect()
            };
            let expected_cool = ["sent", "suppressed"][..=round].to_vec();
            let mut got = of_rule(cool);
            got.reverse();
            assert_eq!(got, expected_cool, "round {round}");
            assert!(of_rule(night).iter().all(|s| s == "deferred"), "{ds:?}");
            assert_eq!(of_rule(night).len(), round + 1);
            t.clock.advance(Duration::minutes(5));
        }
        assert_eq!(
            hook.accepted().len(),
            1,
            "only the first, cooled-down rule sent"
        );
    }
);

/// A Teams destination on `hook`, and a rule that sends it every lockout.
async fn lockouts_to(app: &App, hook: &Webhook) {
    let teams = destination(app, "ops teams", Channel::teams(&hook.url).unwrap()).await;
    let event = "auth.login_throttled";
    rule(app, "lockouts", event, teams, Default::default()).await;
}

async fn attempt(app: &App, ip: &str, email: &str) -> SignInOutcome {
    app.accounts()
        .sign_in(Plane::System, ip, email, "not-the-password-123")
        .await
        .unwrap()
}

both_backends!(
    a_throttled_sign_in_key_alerts_once_per_window,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        let app = t.app_with_alerts(settings(None));
        lockouts_to(&app, &hook).await;
        let (ip, email) = ("10.9.8.7", "Victim.Person@Example.TEST");
        operator(&app, "victim.person@example.test", &[]).await;
        for window in 1..=2 {
            for _ in 0..10 {
                assert!(matches!(
                    attempt(&app, ip, email).await,
                    SignInOutcome::Failed
                ));
            }
            for _ in 0..3 {
                let refused = attempt(&app, ip, email).await;
                assert!(matches!(refused, SignInOutcome::Throttled { .. }));
            }
            drain(&app).await;
            let ds = deliveries(&app).await;
            let alerts = of_event(&ds, "auth.login_throttled");
            assert_eq!(alerts.len(), window, "once per key and window: {ds:?}");
            assert_eq!(hook.accepted().len(), window);
            t.clock.advance(Duration::seconds(61));
        }
        let card = hook.accepted()[0]["attachments"][0]["content"].to_string();
        assert!(card.contains(ip) && card.contains("/system"), "{card}");
        assert!(card.contains("v…@example.test"), "{card}");
        assert!(!card.to_lowercase().contains("victim.person"), "{card}");
        assert!(!card.contains("not-the-password"), "{card}");
        // Beside the audit entries the throttle writes.
        let audited = t
            .count("SELECT count(*) FROM audit_events WHERE action = 'login.throttled'")
            .await;
        assert!(audited >= 2, "{audited}");
    }
);

both_backends!(
    a_spray_over_the_per_address_limit_alerts_without_an_email,
    |t| async move {
        let hook = Webhook::start(&[]).await;
        let limits = SignInLimits {
            per_ip_per_minute: 3,
            ..Default::default()
        };
        let app = t
            .app_with_alerts(settings(None))
            .with_sign_in_limits(limits);
        lockouts_to(&app, &hook).await;
        for i in 0..6 {
            attempt(&app, "2001:db8::7", &format!("user{i}@example.test")).await;
        }
        drain(&app).await;
        let posts = hook.accepted();
        assert_eq!(posts.len(), 1, "one alert for the address");
        let card = posts[0]["attachments"][0]["content"].to_string();
        assert!(card.contains("2001:db8::7") && card.contains("per client address"));
        assert!(
            !card.contains("user"),
            "no email for the address limit: {card}"
        );
    }
);
