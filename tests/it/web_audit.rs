//! `/system/audit` over HTTP: filters by actor, action, subject and days,
//! details as key: value lines, subjects as links, system events hidden by
//! default, numbered pages clamped — on both backends.

use chrono::{TimeZone, Utc};
use tenantatlas::domain::{Actor, AuditEntry, Capability};
use tenantatlas::runs::Initiator;
use tenantatlas::storage::directory;

use crate::both_backends;
use crate::support::TestApp;
use crate::support::web::*;

fn at(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, day, hour, 0, 0)
        .single()
        .unwrap()
}

async fn record(t: &TestApp, entry: AuditEntry, when: chrono::DateTime<Utc>) {
    directory::audit_now(&t.app.db, &entry, when).await.unwrap();
}

/// A day of entries: an operator's alert change, a CLI start and the
/// system's completion of that run, and 30 sign-ins spread over days.
async fn history(t: &TestApp) {
    let op = Actor::trusted(Initiator::PlatformUser {
        id: 1,
        email: "alice@ops.test".into(),
    });
    let cli = crate::support::runs::cli();
    let detail = serde_json::json!({"name": "Ops channel", "type": "teams", "target": "https://hooks.example/…", "destination_ids": [3, 4]});
    let create = op.audit(
        "alert.destination.create",
        Some("alert_destination:3".into()),
        detail,
    );
    record(t, create, at(10, 9)).await;
    let start = cli.audit(
        "run.start",
        Some("run:5".into()),
        serde_json::json!({"reason": "nightly"}),
    );
    record(t, start, at(11, 9)).await;
    record(
        t,
        AuditEntry::system("run.completed", "run:5".into()),
        at(11, 10),
    )
    .await;
    for i in 0..30 {
        let login = op.audit("login.succeeded", None, serde_json::json!({}));
        record(t, login, at(12 + i % 3, 8)).await;
    }
}

both_backends!(the_audit_log_is_searchable_and_readable, |t| async move {
    history(t).await;
    let (_server, base, c) =
        console_as(&t.app, "viewer@ops.test", &[Capability::OPERATIONS_VIEW]).await;
    let audit = |q: &str| format!("{base}/system/audit{q}");

    // Default: system events hidden and counted; 33 entries of people
    // (30 sign-ins, the alert change, the CLI start, this viewer's sign-in).
    let html = get_html(&c, audit("")).await;
    assert!(html.contains("1 system event hidden"), "{html}");
    assert!(!html.contains("<code>run.completed</code>"));
    assert!(html.contains("Page 1 of 2 · 33 entries"), "{html}");
    assert!(
        !html.contains("value=\"1\" checked"),
        "unchecked by default"
    );

    // Shown on request.
    let html = get_html(&c, audit("?system=1")).await;
    assert!(html.contains("34 entries"), "{html}");
    assert!(html.contains("value=\"1\" checked"));
    let html = get_html(&c, audit("?system=1&action=run.")).await;
    assert!(html.contains("<code>run.completed</code>"), "{html}");

    // A page past the end shows the last page, not nothing.
    let html = get_html(&c, audit("?page=999")).await;
    assert!(html.contains("Page 2 of 2"), "{html}");
    assert!(html.contains("rel=\"first\""));

    // By actor (any case, part of the email or the kind) and by action prefix.
    let html = get_html(&c, audit("?actor=cli")).await;
    assert!(
        html.contains("<code>run.start</code>") && html.contains("1 entry"),
        "{html}"
    );
    let html = get_html(&c, audit("?actor=ALICE&action=alert.")).await;
    assert!(html.contains("alert.destination.create") && html.contains("1 entry"));
    assert!(html.contains("value=\"ALICE\""), "the filter is kept");

    // Details read as key: value, subjects link to their page.
    assert!(html.contains("<dt>name</dt><dd>Ops channel</dd>"), "{html}");
    assert!(html.contains("<dt>destination_ids</dt><dd>3, 4</dd>"));
    assert!(!html.contains("{&quot;name"), "no raw JSON");
    assert!(
        html.contains("<a href=\"/system/alerts/destinations/3/edit\">alert_destination:3</a>")
    );

    // By subject, exactly or by kind; the system's entry when asked for.
    let html = get_html(&c, audit("?subject=run%3A5&system=1")).await;
    assert!(html.contains("<a href=\"/system/runs/5\">run:5</a>"));
    assert!(html.contains("2 entries"), "{html}");
    let html = get_html(&c, audit("?subject=run%3A")).await;
    assert!(html.contains("1 entry"), "{html}");
    let html = get_html(&c, audit("?subject=run%3A55")).await;
    assert!(html.contains("No entry matches"));

    // By days (UTC, both ends included).
    let html = get_html(&c, audit("?from=2026-02-12&to=2026-02-12")).await;
    assert!(html.contains("10 entries"), "{html}");
    let html = get_html(&c, audit("?from=2026-02-10&to=2026-02-11&system=1")).await;
    assert!(html.contains("3 entries"), "{html}");

    // A wrong day is said beside its field, what was typed kept.
    let r = assert_status(c.get(audit("?from=2026-02-30&actor=alice")), 422).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"f-from-error\""), "{html}");
    assert!(
        html.contains("2026-02-30&#34; is not a date: use YYYY-MM-DD"),
        "{html}"
    );
    assert!(html.contains("value=\"alice\""));
    let r = assert_status(c.get(audit("?from=2026-02-12&to=2026-02-11")), 422).await;
    assert!(r.text().await.unwrap().contains("id=\"f-to-error\""));
});
