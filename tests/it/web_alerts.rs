//! `/system/alerts` over HTTP: destinations, rules, a test message against a
//! real webhook receiver, bad input, and capability checks — on both backends.

use tenantatlas::domain::Actor;
use tenantatlas::domain::Capability;
use tenantatlas::runs::Initiator;

use crate::both_backends;
use crate::receivers::Webhook;
use crate::support::TestApp;
use crate::web_support::*;

const PAGE: &str = "/system/alerts";
const DESTINATIONS: &str = "/system/alerts/destinations";
const RULES: &str = "/system/alerts/rules";

/// The alerts page as one signed-in operator sees it.
struct Alerts {
    server: Server,
    c: reqwest::Client,
}

impl Alerts {
    /// A server and a new operator with every capability, signed in.
    async fn open(t: &TestApp) -> Alerts {
        let (server, _, c) = console_as(&t.app, "alerts@ops.test", &Capability::ALL).await;
        Alerts { server, c }
    }

    /// The page, which must answer 200.
    async fn page(&self) -> String {
        let r = assert_status(self.c.get(format!("{}{PAGE}", self.server.base)), 200).await;
        r.text().await.unwrap()
    }

    /// GETs a confirmation page, which must answer 200.
    async fn confirm(&self, path: &str) -> String {
        let r = assert_status(self.c.get(format!("{}{path}", self.server.base)), 200).await;
        r.text().await.unwrap()
    }

    /// Posts a form with the page's CSRF token; returns status, location, body.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let tok = token(&self.c, &format!("{}{PAGE}", self.server.base)).await;
        let mut form: Vec<(&str, &str)> = vec![("_token", tok.as_str())];
        form.extend_from_slice(fields);
        let r = post_form(&self.c, format!("{}{path}", self.server.base), &form).await;
        let status = r.status().as_u16();
        let loc = location(&r);
        (status, loc, r.text().await.unwrap())
    }

    /// Posts a form that must lead back to the page.
    async fn post_back(&self, path: &str, fields: &[(&str, &str)]) {
        let (status, loc, body) = self.post(path, fields).await;
        assert_eq!((status, loc.as_str()), (303, PAGE), "{path}: {body}");
    }
}

async fn counts(t: &TestApp) -> [i64; 4] {
    [
        t.count("SELECT count(*) FROM alert_destinations").await,
        t.count("SELECT count(*) FROM alert_rules").await,
        t.count("SELECT count(*) FROM alert_rule_destinations")
            .await,
        t.count("SELECT count(*) FROM alert_deliveries").await,
    ]
}

fn trusted() -> Actor {
    Actor::trusted(Initiator::Cli {
        os_user: None,
        host: None,
    })
}

both_backends!(
    an_operator_manages_destinations_rules_and_sends_a_test,
    |t| async move {
        let app = &t.app;
        let alerts = Alerts::open(t).await;

        let html = alerts.page().await;
        assert!(html.contains("No destinations yet"), "{html}");
        assert!(html.contains("id=\"nav-alerts\""), "the nav links here");

        // A Teams destination: the webhook's secret path never comes back.
        let hook = Webhook::start(&[]).await;
        assert!(hook.url.contains("/webhookb2/secret-token"));
        let fields = [
            ("kind", "teams"),
            ("name", "Ops channel"),
            ("url", &hook.url),
        ];
        alerts.post_back(DESTINATIONS, &fields).await;
        let html = alerts.page().await;
        assert!(html.contains("Ops channel"));
        assert!(html.contains("(teams) added."), "the flash message");
        assert!(html.contains("http://127.0.0.1/…"), "masked target");
        assert!(
            !html.contains("secret-token"),
            "the secret path never comes back"
        );
        let html = alerts.page().await;
        assert!(!html.contains("added."), "a flash is shown once");

        // An email destination.
        let recipients = "oncall@example.com ops@example.com";
        let fields = [
            ("kind", "email"),
            ("name", "On-call"),
            ("recipients", recipients),
        ];
        assert_eq!(alerts.post(DESTINATIONS, &fields).await.0, 303);
        let dests = app.alert_service().destinations(&trusted()).await.unwrap();
        assert_eq!(dests.len(), 2);
        let (teams, email) = (dests[0].id, dests[1].id);
        assert_eq!(dests[1].target, "oncall@example.com, ops@example.com");
        let html = alerts.page().await;
        assert!(html.contains("oncall@example.com, ops@example.com"));
        assert!(html.contains(&format!("id=\"rule-destination-{email}\"")));

        // A rule to both.
        let (teams_s, email_s) = (teams.to_string(), email.to_string());
        let rule = [
            ("name", "Failed runs"),
            ("event", "operation_run.failed"),
            ("min_severity", "high"),
            ("cooldown_seconds", "3600"),
            ("quiet_hours", "22:00-07:00"),
            ("timezone", "Europe/Berlin"),
            ("destination", &teams_s),
            ("destination", &email_s),
        ];
        alerts.post_back(RULES, &rule).await;
        let rules = app.alert_service().rules(&trusted()).await.unwrap();
        assert_eq!(rules.len(), 1);
        let rule = &rules[0];
        assert_eq!(rule.destination_ids, vec![teams, email]);
        assert_eq!(rule.cooldown_seconds, 3600);
        assert_eq!(rule.min_severity, "high");
        let html = alerts.page().await;
        assert!(html.contains(&format!("id=\"rule-{}\"", rule.id)));
        assert!(html.contains("22:00-07:00 Europe/Berlin"), "{html}");
        assert!(html.contains(&format!("Ops channel (#{teams}), On-call (#{email})")));

        // Send test: a real POST to the receiver, recorded as sent.
        let test = format!("{DESTINATIONS}/{teams}/test");
        alerts.post_back(&test, &[]).await;
        assert_eq!(
            hook.accepted().len(),
            1,
            "the receiver got the test message"
        );
        let card = &hook.accepted()[0];
        assert!(card.to_string().contains("Test message"), "{card}");
        let html = alerts.page().await;
        assert!(html.contains("Test message sent"), "flash");
        assert!(html.contains("<code>alert.test</code>"));
        assert!(html.contains("data-status=\"sent\""), "{html}");
        assert!(!html.contains("secret-token"));
        assert_eq!(counts(t).await, [2, 1, 2, 1]);

        // Delete the rule, then both destinations, each after its confirmation page.
        let delete = format!("{RULES}/{}/delete", rule.id);
        let html = alerts.confirm(&delete).await;
        assert!(html.contains("Delete this rule?") && html.contains("Failed runs"));
        alerts.post_back(&delete, &[]).await;
        for id in [teams, email] {
            let delete = format!("{DESTINATIONS}/{id}/delete");
            let html = alerts.confirm(&delete).await;
            assert!(html.contains("Delete this destination?"));
            assert!(!html.contains("secret-token"));
            alerts.post_back(&delete, &[]).await;
        }
        assert_eq!(counts(t).await, [0, 0, 0, 1], "the delivery stays recorded");
        let html = alerts.page().await;
        assert!(html.contains("No destinations yet") && html.contains("No rules yet"));
        assert!(html.contains("data-status=\"sent\""));

        // Deleting again: the page says it does not exist.
        let (status, _, body) = alerts
            .post(&format!("{DESTINATIONS}/{teams}/delete"), &[])
            .await;
        assert_eq!(status, 404);
        assert!(body.contains(&format!("alert destination {teams} does not exist")));

        // Every change above is in the audit log, the webhook's path masked.
        let audit = format!("{}/system/audit?action=alert.", alerts.server.base);
        let html = assert_status(alerts.c.get(audit), 200)
            .await
            .text()
            .await
            .unwrap();
        for action in [
            "alert.destination.create",
            "alert.destination.test",
            "alert.rule.create",
            "alert.rule.delete",
            "alert.destination.delete",
        ] {
            assert!(html.contains(action), "{action} in the audit log: {html}");
        }
        assert!(!html.contains("secret-token"), "the audit log masks URLs");
    }
);

both_backends!(bad_input_answers_422_and_writes_nothing, |t| async move {
    let app = &t.app;
    let alerts = Alerts::open(t).await;
    let fields = [
        ("kind", "email"),
        ("name", "On-call"),
        ("recipients", "a@example.com"),
    ];
    assert_eq!(alerts.post(DESTINATIONS, &fields).await.0, 303);
    let dest = app.alert_service().destinations(&trusted()).await.unwrap()[0].id;
    let dest = dest.to_string();
    let before = counts(t).await;
    assert_eq!(before, [1, 0, 0, 0]);

    let secret = "https://example.webhook.office.com/webhookb2/top-secret-path";
    let destination_cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("kind", "teams"),
                ("name", "Ops"),
                ("url", "ftp://example.com/x"),
            ],
            "must be http(s)",
        ),
        (
            vec![("kind", "teams"), ("name", "Ops"), ("url", "not a url")],
            "is not a URL",
        ),
        (
            vec![("kind", "teams"), ("name", "  "), ("url", secret)],
            "name: must not be empty",
        ),
        (
            vec![("kind", "email"), ("name", "Mail"), ("recipients", " , ")],
            "at least one recipient",
        ),
        (
            vec![("kind", "email"), ("name", "Mail"), ("recipients", "nope")],
            "is not an email address",
        ),
        (
            vec![("kind", "pager"), ("name", "Mail")],
            "unknown destination type",
        ),
    ];
    for (fields, message) in destination_cases {
        let (status, loc, body) = alerts.post(DESTINATIONS, &fields).await;
        assert_eq!(status, 422, "{fields:?}: {loc} {body:.300}");
        assert!(body.contains(message), "{fields:?}: {message} in {body}");
        assert!(body.contains("id=\"error\""), "shown as an error");
        assert!(!body.contains("top-secret-path"), "the URL is never echoed");
        assert_eq!(counts(t).await, before, "{fields:?} wrote nothing");
    }

    let rule = |name: &'static str,
                cooldown: &'static str,
                quiet: &'static str,
                tz: &'static str,
                dest: Option<&str>| {
        let mut f: Vec<(&str, String)> = vec![
            ("name", name.into()),
            ("event", "operation_run.failed".into()),
            ("min_severity", "high".into()),
            ("cooldown_seconds", cooldown.into()),
            ("quiet_hours", quiet.into()),
            ("timezone", tz.into()),
        ];
        if let Some(d) = dest {
            f.push(("destination", d.to_owned()));
        }
        f
    };
    let d = Some(dest.as_str());
    let rule_cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (
            rule("Nightly", "60", "22:00-07:00", "Mars/Olympus", d),
            "unknown time zone",
        ),
        (rule("Nightly", "60", "22:00-22:00", "UTC", d), "are empty"),
        (
            rule("Nightly", "60", "late", "UTC", d),
            "must look like 22:00-07:00",
        ),
        (
            rule("Nightly", "60", "22:00-07:00", "", d),
            "quiet hours need a time zone",
        ),
        (
            rule("Nightly", "-5", "", "UTC", d),
            "the cooldown must be 0 to 2592000 seconds",
        ),
        (
            rule("Nightly", "soon", "", "UTC", d),
            "must be a whole number of seconds",
        ),
        (
            rule("Nightly", "60", "", "UTC", Some("999")),
            "alert destination 999 does not exist",
        ),
        (
            rule("Nightly", "60", "", "UTC", None),
            "a rule needs at least one destination",
        ),
        (rule("", "60", "", "UTC", d), "name: must not be empty"),
    ];
    for (fields, message) in rule_cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, loc, body) = alerts.post(RULES, &fields).await;
        assert_eq!(status, 422, "{fields:?}: {loc} {body:.300}");
        assert!(body.contains(message), "{fields:?}: {message} in {body}");
        let name = fields[0].1;
        if !name.is_empty() {
            assert!(
                body.contains(&format!("value=\"{name}\"")),
                "what was typed is kept"
            );
        }
        assert_eq!(counts(t).await, before, "{fields:?} wrote nothing");
    }

    // Unknown ids on the row actions: the page says so, nothing changes.
    for path in [
        "/system/alerts/destinations/999/test",
        "/system/alerts/destinations/999/delete",
        "/system/alerts/rules/999/delete",
        "/system/alerts/rules/abc/delete",
    ] {
        let (status, _, body) = alerts.post(path, &[]).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("does not exist"), "{path}: {body:.300}");
    }
    let (c, base) = (&alerts.c, &alerts.server.base);
    // Without the CSRF token: refused.
    assert_status(c.post(format!("{base}{RULES}")).form(&[("name", "x")]), 403).await;
    // From another site: refused by the Origin check.
    let tok = token(c, &format!("{base}{PAGE}")).await;
    let fields = [
        ("_token", tok.as_str()),
        ("kind", "email"),
        ("name", "x"),
        ("recipients", "x@example.com"),
    ];
    let foreign = c
        .post(format!("{base}{DESTINATIONS}"))
        .header("origin", "https://evil.example");
    assert_status(foreign.form(&fields), 403).await;
    assert_eq!(counts(t).await, before);
});

both_backends!(
    an_operator_without_the_capability_is_refused,
    |t| async move {
        let viewer = [Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW];
        let (_server, base, c) = console_as(&t.app, "viewer@ops.test", &viewer).await;
        let home = get_html(&c, format!("{base}/system")).await;
        assert!(!home.contains("/system/alerts"), "no Alerts link");
        let r = assert_status(c.get(format!("{base}{PAGE}")), 403).await;
        assert!(r.text().await.unwrap().contains("platform.alerts.manage"));
        let tok = token_of(&home);
        for (path, fields) in [
            (
                DESTINATIONS,
                vec![
                    ("kind", "email"),
                    ("name", "x"),
                    ("recipients", "x@example.com"),
                ],
            ),
            (
                RULES,
                vec![("name", "x"), ("event", "operation_run.failed")],
            ),
            ("/system/alerts/destinations/1/test", vec![]),
            ("/system/alerts/destinations/1/delete", vec![]),
            ("/system/alerts/rules/1/delete", vec![]),
        ] {
            let mut form = vec![("_token", tok.as_str())];
            form.extend(fields);
            let r = post_form(&c, format!("{base}{path}"), &form).await;
            assert_eq!(r.status(), 403, "{path}");
        }
        assert_eq!(counts(t).await, [0, 0, 0, 0]);
    }
);
