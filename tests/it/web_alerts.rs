//! `/system/alerts` over HTTP: destinations, rules, a test message against a
//! real webhook receiver, bad input, and capability checks — on both backends.

use tenantatlas::alerts::DeliveryView;
use tenantatlas::domain::Capability;

use crate::both_backends;
use crate::support::TestApp;
use crate::support::receivers::{Answer, Webhook};
use crate::support::runs::cli as trusted;
use crate::support::web::*;

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
        self.get(PAGE).await
    }

    /// GETs a page of the console (a confirmation, the audit log), which
    /// must answer 200.
    async fn get(&self, path: &str) -> String {
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

    /// Posts a form that must be refused with 422 and `message` in the error
    /// `id` beside the wrong field; returns the form shown again.
    async fn refused(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        id: &str,
        message: &str,
    ) -> String {
        let (status, loc, body) = self.post(path, fields).await;
        assert_eq!(status, 422, "{fields:?}: {loc} {body:.300}");
        let beside = format!("id=\"{id}\">");
        let at = body
            .find(&beside)
            .unwrap_or_else(|| panic!("{id} in {body}"));
        assert!(
            body[at..].split("</p>").next().unwrap().contains(message),
            "{fields:?}: {message}: {:.200}",
            &body[at..]
        );
        body
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
        let html = alerts.get(&delete).await;
        assert!(html.contains("Delete this rule?") && html.contains("Failed runs"));
        alerts.post_back(&delete, &[]).await;
        for id in [teams, email] {
            let delete = format!("{DESTINATIONS}/{id}/delete");
            let html = alerts.get(&delete).await;
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
        let html = alerts.get("/system/audit?action=alert.").await;
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

/// A form's fields, the id of the error beside the wrong one, its message.
type Case<'a> = (Vec<(&'static str, &'a str)>, &'static str, &'static str);

/// A Teams destination's form.
fn teams<'a>(name: &'a str, url: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("kind", "teams"), ("name", name), ("url", url)]
}

/// An email destination's form.
fn email<'a>(name: &'a str, recipients: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("kind", "email"),
        ("name", name),
        ("recipients", recipients),
    ]
}

/// The form of a rule named "Nightly" on failed runs: a cooldown in minutes,
/// quiet hours, a time zone and its destination.
fn nightly<'a>(
    cooldown: &'a str,
    quiet_hours: &'a str,
    timezone: &'a str,
    destination: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut form = vec![
        ("name", "Nightly"),
        ("event", "operation_run.failed"),
        ("min_severity", "high"),
        ("cooldown", cooldown),
        ("cooldown_unit", "minutes"),
        ("quiet_hours", quiet_hours),
        ("timezone", timezone),
    ];
    form.extend(destination.map(|d| ("destination", d)));
    form
}

both_backends!(bad_input_answers_422_and_writes_nothing, |t| async move {
    let app = &t.app;
    let alerts = Alerts::open(t).await;
    assert_eq!(
        alerts
            .post(DESTINATIONS, &email("On-call", "a@example.com"))
            .await
            .0,
        303
    );
    let dest = app.alert_service().destinations(&trusted()).await.unwrap()[0].id;
    let dest = dest.to_string();
    let before = counts(t).await;
    assert_eq!(before, [1, 0, 0, 0]);

    // Each mistake beside its field, what was typed kept — the webhook URL
    // too: it is masked only once saved, and never repeated in a message.
    let secret = "https://example.webhook.office.com/webhookb2/top-secret-path";
    let pager = vec![("kind", "pager"), ("name", "Mail")];
    #[rustfmt::skip]
    let destination_cases: Vec<Case> = vec![
        (teams("Ops", "ftp://example.com/x"), "teams-url-error", "must be http(s)"),
        (teams("Ops", "not a url"), "teams-url-error", "is not a URL"),
        (teams("  ", secret), "teams-name-error", "name: must not be empty"),
        (email("Mail", " , "), "email-recipients-error", "at least one recipient"),
        (email("Mail", "nope"), "email-recipients-error", "is not an email address"),
        (pager, "teams-kind-error", "unknown destination type"),
    ];
    for (fields, id, message) in destination_cases {
        let body = alerts.refused(DESTINATIONS, &fields, id, message).await;
        for (k, v) in &fields {
            if ["name", "url", "recipients"].contains(k) && !v.trim().is_empty() {
                assert!(
                    body.contains(&format!("value=\"{v}\"")),
                    "{k} kept: {body:.200}"
                );
            }
        }
        assert_eq!(
            body.matches("top-secret-path").count(),
            usize::from(fields.contains(&("url", secret))),
            "the URL only in its own field"
        );
        assert_eq!(counts(t).await, before, "{fields:?} wrote nothing");
    }

    let d = Some(dest.as_str());
    // The one case whose name is wrong: empty.
    let mut nameless = nightly("60", "", "UTC", d);
    nameless[0] = ("name", "");
    #[rustfmt::skip]
    let rule_cases: Vec<Case> = vec![
        (nightly("60", "22:00-07:00", "Mars/Olympus", d), "rule-timezone-error", "unknown time zone"),
        (nightly("60", "22:00-22:00", "UTC", d), "rule-quiet-error", "are empty"),
        (nightly("60", "late", "UTC", d), "rule-quiet-error", "must look like 22:00-07:00"),
        (nightly("60", "25:00-07:00", "UTC", d), "rule-quiet-error", "the start &#34;25:00&#34; is not a time of day"),
        (nightly("60", "22:00-07:75", "UTC", d), "rule-quiet-error", "the end &#34;07:75&#34; is not a time of day"),
        (nightly("60", "22:00-07:00", "", d), "rule-timezone-error", "quiet hours need a time zone"),
        (nightly("-5", "", "UTC", d), "rule-cooldown-error", "between 0 and 30 days"),
        (nightly("50000", "", "UTC", d), "rule-cooldown-error", "between 0 and 30 days"),
        (nightly("soon", "", "UTC", d), "rule-cooldown-error", "must be a whole number of minutes"),
        (nightly("60", "", "UTC", Some("999")), "rule-destination-error", "alert destination 999 does not exist"),
        (nightly("60", "", "UTC", None), "rule-destination-error", "a rule needs at least one destination"),
        (nameless, "rule-name-error", "name: must not be empty"),
    ];
    for (fields, id, message) in rule_cases {
        let body = alerts.refused(RULES, &fields, id, message).await;
        for (k, v) in &fields {
            if ["name", "cooldown", "quiet_hours", "timezone"].contains(k) && !v.is_empty() {
                assert!(body.contains(&format!("value=\"{v}\"")), "{k} kept");
            }
        }
        assert_eq!(counts(t).await, before, "{fields:?} wrote nothing");
    }

    // Unknown ids on the row actions: the page says so, nothing changes.
    for path in [
        "/system/alerts/destinations/999/test",
        "/system/alerts/destinations/999/delete",
        "/system/alerts/destinations/999/disable",
        "/system/alerts/destinations/999/edit",
        "/system/alerts/rules/999/delete",
        "/system/alerts/rules/999/enable",
        "/system/alerts/rules/999/edit",
        "/system/alerts/rules/abc/delete",
        "/system/alerts/deliveries/999/retry",
    ] {
        let (status, _, body) = alerts.post(path, &[("name", "x")]).await;
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
            ("/system/alerts/rules/1/disable", vec![]),
            ("/system/alerts/rules/1/edit", vec![("name", "x")]),
            ("/system/alerts/destinations/1/enable", vec![]),
            ("/system/alerts/destinations/1/edit", vec![("name", "x")]),
            ("/system/alerts/deliveries/1/retry", vec![]),
        ] {
            let mut form = vec![("_token", tok.as_str())];
            form.extend(fields);
            let r = post_form(&c, format!("{base}{path}"), &form).await;
            assert_eq!(r.status(), 403, "{path}");
        }
        assert_eq!(counts(t).await, [0, 0, 0, 0]);
    }
);

/// Log lines written while the guard lives (this thread's tracing only).
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The first of the last ten deliveries that `which` picks.
async fn delivery(t: &TestApp, which: impl Fn(&DeliveryView) -> bool) -> DeliveryView {
    let deliveries = t.app.alert_service().deliveries(&trusted(), 10).await;
    deliveries.unwrap().into_iter().find(|d| which(d)).unwrap()
}

/// A run of the backfill over all tenants that does not succeed.
async fn failing_run(t: &TestApp) -> i64 {
    let run = crate::support::runs::start_all(&t.app, crate::support::runs::BACKFILL)
        .await
        .run;
    t.drain().await;
    let run = t.app.runs().get(run.id).await.unwrap();
    assert_ne!(run.outcome.as_str(), "succeeded");
    run.id
}

both_backends!(
    rules_and_destinations_are_edited_paused_and_deliveries_explained,
    |t| async move {
        let app = &t.app;
        t.seed(2, 3, 1).await;
        let alerts = Alerts::open(t).await;
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _logging = tracing::subscriber::set_default(subscriber);

        // Two Teams destinations: one answers, one fails three times.
        let good = Webhook::start(&[]).await;
        let bad = Webhook::start(&[Answer::Status(500); 3]).await;
        for (name, hook) in [("Good", &good), ("Bad", &bad)] {
            let fields = [
                ("kind", "teams"),
                ("name", name),
                ("url", hook.url.as_str()),
            ];
            alerts.post_back(DESTINATIONS, &fields).await;
        }
        let dests = app.alert_service().destinations(&trusted()).await.unwrap();
        let (good_id, bad_id) = (dests[0].id, dests[1].id);
        let (good_s, bad_s) = (good_id.to_string(), bad_id.to_string());

        // An email destination while SMTP is not configured: saved, with a
        // clear warning in the flash, on the form and on its row.
        let html = alerts.page().await;
        assert!(
            html.contains("id=\"email-smtp-warning\""),
            "warned before saving"
        );
        let email = [
            ("kind", "email"),
            ("name", "Mail"),
            ("recipients", "a@example.com"),
        ];
        alerts.post_back(DESTINATIONS, &email).await;
        let html = alerts.page().await;
        assert!(html.contains("SMTP_URL is not set"), "{html}");
        let mail_id = app.alert_service().destinations(&trusted()).await.unwrap()[2].id;
        assert!(html.contains(&format!("id=\"destination-{mail_id}-warning\"")));

        // A rule with a cooldown in hours, shown in words.
        let rule = [
            ("name", "Failed runs"),
            ("event", "operation_run.failed"),
            ("min_severity", "high"),
            ("cooldown", "2"),
            ("cooldown_unit", "hours"),
            ("timezone", "UTC"),
            ("destination", &good_s),
            ("destination", &bad_s),
        ];
        alerts.post_back(RULES, &rule).await;
        let r = app
            .alert_service()
            .rules(&trusted())
            .await
            .unwrap()
            .remove(0);
        assert_eq!(r.cooldown_seconds, 7200);
        let html = alerts.page().await;
        assert!(
            html.contains("<td class=\"more nowrap\">2 h</td>"),
            "{html}"
        );
        assert!(
            html.contains("<datalist id=\"time-zones\">")
                && html.contains("value=\"Europe/Berlin\"")
        );

        // Edit: the form shows the rule; the cooldown goes to none.
        let edit = format!("{RULES}/{}/edit", r.id);
        let html = alerts.get(&edit).await;
        assert!(
            html.contains("value=\"Failed runs\"")
                && html.contains("<option value=\"hours\" selected>"),
            "{html}"
        );
        let (status, _, body) = alerts
            .post(
                &edit,
                &[
                    ("name", "Failed runs"),
                    ("event", "operation_run.failed"),
                    ("quiet_hours", "25:00-07:00"),
                    ("timezone", "UTC"),
                    ("destination", &good_s),
                ],
            )
            .await;
        assert_eq!(status, 422);
        assert!(body.contains("id=\"rule-quiet-error\"") && body.contains("value=\"25:00-07:00\""));
        let changed = [
            ("name", "All failures"),
            ("event", "operation_run.failed"),
            ("min_severity", "high"),
            ("cooldown", ""),
            ("destination", &good_s),
            ("destination", &bad_s),
        ];
        alerts.post_back(&edit, &changed).await;
        let r = app.alert_service().rule(&trusted(), r.id).await.unwrap();
        assert_eq!((r.name.as_str(), r.cooldown_seconds), ("All failures", 0));

        // A disabled rule matches nothing: no delivery, no request.
        alerts
            .post_back(&format!("{RULES}/{}/disable", r.id), &[])
            .await;
        assert!(
            alerts
                .page()
                .await
                .contains(&format!("id=\"enable-rule-{}\"", r.id))
        );
        failing_run(t).await;
        assert_eq!(counts(t).await[3], 0, "a disabled rule queues nothing");

        // A disabled destination is sent nothing; the record says why.
        alerts
            .post_back(&format!("{RULES}/{}/enable", r.id), &[])
            .await;
        alerts
            .post_back(&format!("{DESTINATIONS}/{good_id}/disable"), &[])
            .await;
        let run = failing_run(t).await;
        assert_eq!(good.requests(), 0, "the disabled destination got nothing");
        assert_eq!(bad.requests(), 1, "the other got its first attempt");
        let html = alerts.page().await;
        assert!(html.contains("destination disabled"), "{html}");
        assert!(html.contains(&format!("<a href=\"/system/runs/{run}\">run #{run}</a>")));
        assert!(html.contains(&format!(
            "<a href=\"/system/alerts/rules/{}/edit\">All failures</a>",
            r.id
        )));
        let waiting = delivery(t, |d| d.destination_id == Some(bad_id)).await;
        assert_eq!((waiting.status.as_str(), waiting.attempts), ("queued", 1));
        let next = waiting.next_attempt_at.expect("the next retry is known");
        assert!(next > t.app.clock.now());
        assert!(
            html.contains(&next.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            "next retry shown"
        );
        assert!(html.contains("answered HTTP 500"));

        // Each failure is in the server log, with ids and reason, never the URL.
        let log = logs.text();
        assert!(
            log.contains("alert delivery failed")
                && log.contains(&format!("destination_id={bad_id}")),
            "{log}"
        );
        assert!(
            log.contains("answered HTTP 500") && !log.contains("secret-token"),
            "{log}"
        );

        // The queue gives up after its attempts: failed, with a retry button.
        for _ in 0..3 {
            t.clock.advance(chrono::Duration::seconds(120));
            t.drain().await;
        }
        let failed = delivery(t, |d| d.destination_id == Some(bad_id)).await;
        assert_eq!((failed.status.as_str(), failed.attempts), ("failed", 3));
        let html = alerts.page().await;
        assert!(html.contains(&format!("id=\"retry-delivery-{}\"", failed.id)));

        // A manual retry queues it again; the receiver answers this time.
        alerts
            .post_back(
                &format!("/system/alerts/deliveries/{}/retry", failed.id),
                &[],
            )
            .await;
        t.drain().await;
        let sent = delivery(t, |d| d.id == failed.id).await;
        assert_eq!((sent.status.as_str(), sent.attempts), ("sent", 4));
        assert_eq!(bad.accepted().len(), 1);
        // Only a failed delivery can be retried.
        let (status, _, body) = alerts
            .post(
                &format!("/system/alerts/deliveries/{}/retry", failed.id),
                &[],
            )
            .await;
        assert_eq!(status, 409);
        assert!(
            body.contains("only a failed delivery can be retried"),
            "{body:.400}"
        );

        // A cooldown suppresses the next alert and says so.
        alerts
            .post_back(&format!("{DESTINATIONS}/{good_id}/enable"), &[])
            .await;
        let again = [
            ("name", "All failures"),
            ("event", "operation_run.failed"),
            ("min_severity", "high"),
            ("cooldown", "30"),
            ("cooldown_unit", "minutes"),
            ("destination", &good_s),
            ("destination", &bad_s),
        ];
        alerts.post_back(&edit, &again).await;
        failing_run(t).await;
        let html = alerts.page().await;
        assert!(
            html.contains(
                "cooldown: this rule alerted about the same subject less than 30 min ago"
            ),
            "{html}"
        );
        assert_eq!(good.requests(), 0);

        // Editing a destination: a bad URL keeps what was typed beside its
        // error; an empty URL keeps the saved webhook.
        let edit_dest = format!("{DESTINATIONS}/{bad_id}/edit");
        let html = alerts.get(&edit_dest).await;
        assert!(html.contains("http://127.0.0.1/…") && !html.contains("secret-token"));
        let (status, _, body) = alerts
            .post(
                &edit_dest,
                &[("kind", "teams"), ("name", "Bad"), ("url", "no url here")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(
            body.contains("id=\"destination-url-error\"") && body.contains("value=\"no url here\"")
        );
        alerts
            .post_back(
                &edit_dest,
                &[("kind", "teams"), ("name", "Renamed"), ("url", "")],
            )
            .await;
        let d = app
            .alert_service()
            .destination(&trusted(), bad_id)
            .await
            .unwrap();
        assert_eq!(
            (d.name.as_str(), d.target.as_str()),
            ("Renamed", "http://127.0.0.1/…")
        );
        alerts
            .post_back(&format!("{DESTINATIONS}/{bad_id}/test"), &[])
            .await;
        assert_eq!(bad.accepted().len(), 2, "the saved webhook is kept");

        // Deliveries page by page, with the total; a link to one delivery
        // opens its page.
        let html = alerts.page().await;
        let total = counts(t).await[3];
        assert!(
            html.contains(&format!("Page 1 of 1 · {total} deliveries")),
            "{html}"
        );
        let html = alerts.get(&format!("{PAGE}?delivery={}", failed.id)).await;
        assert!(html.contains(&format!("id=\"delivery-{}\"", failed.id)));

        // Every change is audited.
        let html = alerts.get("/system/audit?action=alert.").await;
        for action in [
            "alert.rule.update",
            "alert.rule.disable",
            "alert.rule.enable",
            "alert.destination.disable",
            "alert.destination.enable",
            "alert.destination.update",
            "alert.delivery.retry",
        ] {
            assert!(html.contains(action), "{action} in the audit log");
        }
        assert!(!html.contains("secret-token"));
    }
);
