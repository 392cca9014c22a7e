//! Where webhooks may go: https to public addresses unless a deployment
//! allows a host; redirects are not followed; every change to alert routing
//! is audited with the URL masked.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tenantatlas::alerts::{AlertSettings, Channel, EgressPolicy, RuleRequest};
use tenantatlas::error::Error;
use tokio::net::TcpListener;

use crate::both_backends;
use crate::support::receivers::Webhook;
use crate::support::runs::cli;

/// A server that answers every POST with a 307 to `target`.
async fn redirector(target: String) -> String {
    let app = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move {
            let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

both_backends!(
    webhooks_reach_only_public_https_unless_allowed,
    |t| async move {
        let strict = t.app_with_alerts(AlertSettings::default()).alert_service();
        let hook = Webhook::start(&[]).await;
        for (url, says) in [
            (hook.url.as_str(), "must be https"),
            ("https://127.0.0.1/webhookb2/x", "internal address"),
            ("https://[::1]/webhookb2/x", "internal address"),
            (
                "https://169.254.169.254/latest/meta-data",
                "internal address",
            ),
            ("https://10.0.0.7/hook", "internal address"),
            ("https://localhost/hook", "internal address"),
        ] {
            let added = strict
                .add_destination(&cli(), "nope", Channel::teams(url).unwrap())
                .await;
            match added {
                Err(Error::BadInput(m)) => assert!(m.contains(says), "{url}: {m}"),
                other => panic!("{url} was not refused: {other:?}"),
            }
        }
        assert!(strict.destinations(&cli()).await.unwrap().is_empty());

        // Added where it was allowed, sent where it is not: refused before any
        // request leaves.
        let lenient = t.app.alert_service();
        let id = lenient
            .add_destination(&cli(), "loopback", Channel::teams(&hook.url).unwrap())
            .await
            .unwrap()
            .id;
        let refused = strict.test_destination(&cli(), id).await.unwrap();
        assert_eq!(refused.status, "failed");
        assert!(
            refused
                .last_error
                .as_deref()
                .unwrap_or("")
                .contains("https"),
            "{refused:?}"
        );
        assert_eq!(hook.requests(), 0);
        let sent = lenient.test_destination(&cli(), id).await.unwrap();
        assert_eq!(sent.status, "sent");
        assert_eq!(hook.requests(), 1);
    }
);

both_backends!(webhook_redirects_are_not_followed, |t| async move {
    let hook = Webhook::start(&[]).await;
    let bounce = redirector(hook.url.clone()).await;
    let alerts = t.app.alert_service();
    let id = alerts
        .add_destination(&cli(), "bounce", Channel::teams(&bounce).unwrap())
        .await
        .unwrap()
        .id;
    let d = alerts.test_destination(&cli(), id).await.unwrap();
    assert_eq!(d.status, "failed");
    assert!(
        d.last_error.as_deref().unwrap_or("").contains("HTTP 307"),
        "{d:?}"
    );
    assert_eq!(hook.requests(), 0, "the redirect's target got nothing");
});

both_backends!(alert_routing_changes_are_audited, |t| async move {
    let hook = Webhook::start(&[]).await;
    let alerts = t.app.alert_service();
    let dest = alerts
        .add_destination(&cli(), "ops", Channel::teams(&hook.url).unwrap())
        .await
        .unwrap()
        .id;
    alerts.test_destination(&cli(), dest).await.unwrap();
    let rule = alerts
        .add_rule(
            &cli(),
            RuleRequest {
                name: "failures".into(),
                event: "operation_run.failed".into(),
                destination_ids: vec![dest],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    alerts.remove_rule(&cli(), rule).await.unwrap();
    alerts.remove_destination(&cli(), dest).await.unwrap();

    let rows: Vec<(String, Option<String>, String)> = t
        .app
        .db
        .fetch_all(
            "SELECT action, subject, detail FROM audit_events WHERE action LIKE 'alert.%' ORDER BY id",
            vec![],
        )
        .await
        .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "alert.destination.create",
            "alert.destination.test",
            "alert.rule.create",
            "alert.rule.delete",
            "alert.destination.delete"
        ]
    );
    assert_eq!(
        rows[0].1.as_deref(),
        Some(format!("alert_destination:{dest}").as_str())
    );
    for (action, _, detail) in &rows {
        assert!(
            !detail.contains("secret-token"),
            "{action} shows the webhook secret: {detail}"
        );
    }
    assert!(
        rows[0].2.contains("/…"),
        "the target is masked: {}",
        rows[0].2
    );
});

#[test]
fn the_policy_is_built_from_a_host_list() {
    let p = EgressPolicy::allowing("hooks.internal, 127.0.0.1");
    assert!(p.is_allowed_host("HOOKS.internal"));
    assert!(p.is_allowed_host("127.0.0.1"));
    assert!(!p.is_allowed_host("10.0.0.1"));
}
