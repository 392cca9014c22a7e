//! Browser tests in Debian's Chromium through chromedriver: an operator signs
//! in, runs preflight, starts an all-tenants run, watches the progress bar
//! reach completion without a reload, sees the failed tenant and retries it;
//! a viewer sees no start button and is refused when posting anyway. The
//! operator's notification of the completed run shows in the bell and leads
//! to the run; alert destinations and rules are added on /system/alerts.
//! Screenshots of the main pages go to `target/screenshots/`.
//!
//! Without chromium these tests are skipped, except under `CI=true`, where
//! they fail.

use std::time::{Duration, Instant};

use tenantatlas::domain::Capability;
use thirtyfour::prelude::*;
use tokio::sync::watch;

use crate::support::browser::*;
use crate::support::receivers::Webhook;
use crate::support::runs::BACKFILL as LIFECYCLE;
use crate::support::web::*;
use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_runs_a_backfill_in_the_browser() {
    if !browser_available() {
        return;
    }
    let t = TestApp::new(Backend::Sqlite).await.expect("sqlite");
    assert_eq!(t.db.backend, Backend::Sqlite);
    let app = t.app.clone();
    operator(&app, "operator@ops.test", &Capability::ALL).await;
    operator(
        &app,
        "viewer@ops.test",
        &[Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW],
    )
    .await;
    customer(&app, "user@acme.test").await;
    t.seed(6, 40, 1).await;
    let server = start(&app).await;
    let base = server.base.clone();
    let d = chromedriver().await;
    let driver = browser(&d).await;

    // Sign in.
    goto(&driver, format!("{base}/system/login")).await;
    shot(&driver, "01-login").await;
    sign_in(&driver, &base, "system", "operator@ops.test").await;
    wait_for_path(&driver, "/system", "the dashboard").await;

    // Preflight over all tenants.
    goto(&driver, format!("{base}/system/runbooks")).await;
    shot(&driver, "02-runbooks").await;
    goto(&driver, format!("{base}/system/runbooks/{LIFECYCLE}")).await;
    click_on(&driver, By::Css("input[name=scope][value=all]")).await;
    click(&driver, "preflight-button").await;
    eventually(10, "the preflight", || async {
        text(&driver, "pf-tenants").await == "7"
    })
    .await;
    assert_eq!(text(&driver, "pf-pending").await, "240");
    shot(&driver, "03-preflight").await;

    // Start, with the confirmation and a reason.
    type_into(&driver, "reason", "lifecycle backfill, browser test").await;
    click(&driver, "confirm").await;
    click(&driver, "start-button").await;
    eventually(10, "the run page", || async {
        current_path(&driver).await.starts_with("/system/runs/")
    })
    .await;
    let run_path = current_path(&driver).await;
    assert_eq!(attr(&driver, "run-live", "data-status").await, "queued");
    assert_eq!(attr(&driver, "run-progress", "aria-valuenow").await, "0");
    // A mark that a reload would wipe.
    driver
        .execute("window.__noReload = 'still here'; return true;", vec![])
        .await
        .unwrap();
    // Count the polls, and what the polite live region is told.
    let live = driver
        .execute(
            r#"window.__polls = 0; window.__said = [];
               document.body.addEventListener('htmx:afterSettle', () => window.__polls++);
               const region = document.getElementById('run-announce');
               new MutationObserver(() => window.__said.push(region.textContent.trim()))
                 .observe(region, {childList: true, characterData: true, subtree: true});
               return region.getAttribute('aria-live');"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(live.json(), &serde_json::json!("polite"));
    eventually(10, "two polls of the queued run", || async {
        driver
            .execute("return window.__polls;", vec![])
            .await
            .ok()
            .and_then(|v| v.json().as_i64())
            .unwrap_or(0)
            >= 2
    })
    .await;
    let said = driver
        .execute("return window.__said.length;", vec![])
        .await
        .unwrap();
    assert_eq!(
        said.json(),
        &serde_json::json!(0),
        "a poll that brings the same words leaves the live region alone"
    );

    // Workers start only now, so the page sees the run move from 0. A read
    // that lands in a poll's swap finds no bar (an empty value): read again.
    let found = Instant::now() + Duration::from_secs(10);
    let first = loop {
        let v = attr(&driver, "run-progress", "aria-valuenow").await;
        if !v.is_empty() {
            break v;
        }
        assert!(Instant::now() < found, "no progress bar on the page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut seen = vec![first];
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(app.worker().run(1, stopped));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let v = attr(&driver, "run-progress", "aria-valuenow").await;
        if !v.is_empty() && seen.last() != Some(&v) {
            seen.push(v);
        }
        if attr(&driver, "run-live", "data-status").await == "completed" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the run to complete on the page: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("0"),
        "started at 0: {seen:?}"
    );
    assert_eq!(attr(&driver, "run-progress", "aria-valuenow").await, "100");
    let mark = driver
        .execute("return window.__noReload || null;", vec![])
        .await
        .unwrap();
    assert_eq!(
        mark.json(),
        &serde_json::json!("still here"),
        "the page was not reloaded"
    );
    assert_eq!(current_path(&driver).await, run_path);
    assert_eq!(
        attr(&driver, "run-live", "data-outcome").await,
        "partially succeeded"
    );
    assert_eq!(text(&driver, "count-failed").await, "1");
    // The live region was rewritten only when its text changed, and ends
    // with the outcome.
    let said = driver
        .execute("return window.__said;", vec![])
        .await
        .unwrap();
    let said: Vec<String> = serde_json::from_value(said.json().clone()).unwrap();
    let run_no = run_path.trim_start_matches("/system/runs/");
    assert!(
        said.last().is_some_and(
            |s| s.contains(&format!("Run #{run_no}:")) && s.contains("100% of tenants ran")
        ),
        "{said:?}"
    );
    assert!(said.windows(2).all(|w| w[0] != w[1]), "{said:?}");
    let failures = text(&driver, "failures").await;
    assert!(
        failures.contains("finding.unknown_legacy_state"),
        "{failures}"
    );
    shot(&driver, "04-run-completed").await;

    // The initiator's notification: the bell counts it, the list shows it,
    // and its link opens the run.
    goto(&driver, format!("{base}/system")).await;
    let unread: i64 = text(&driver, "unread-count").await.parse().unwrap_or(0);
    assert!(unread >= 1, "the bell counts the completed run: {unread}");
    click(&driver, "bell").await;
    wait_for_path(&driver, "/system/notifications", "the notification list").await;
    let run_id = run_path.trim_start_matches("/system/runs/");
    let link = driver
        .find(By::Css(format!("li.note.unread a[href='{run_path}']")))
        .await
        .expect("an unread notification linking to the run");
    let title = link.text().await.unwrap();
    assert!(
        title.contains(&format!("Run {run_id} partially succeeded")),
        "{title}"
    );
    shot(&driver, "04b-notifications").await;
    link.click().await.unwrap();
    eventually(10, "the run from its notification", || async {
        current_path(&driver).await == run_path
            && attr(&driver, "run-live", "data-status").await == "completed"
    })
    .await;

    // Retry the failed tenant.
    click(&driver, "retry-link").await;
    eventually(10, "the retry confirmation", || async {
        driver.find(By::Id("confirm-button")).await.is_ok()
    })
    .await;
    shot(&driver, "05-retry-confirm").await;
    click(&driver, "confirm-button").await;
    eventually(10, "the retry run", || async {
        let p = current_path(&driver).await;
        p.starts_with("/system/runs/") && p != run_path && !p.ends_with("retry-failed")
    })
    .await;
    eventually(60, "the retry to complete", || async {
        attr(&driver, "run-live", "data-status").await == "completed"
    })
    .await;
    assert!(
        attr(&driver, "run-progress", "aria-valuetext")
            .await
            .starts_with("1 of 1 tenant ran"),
        "only the failed tenant"
    );
    shot(&driver, "06-retry-run").await;

    goto(&driver, format!("{base}/system")).await;
    shot(&driver, "07-dashboard").await;
    goto(&driver, format!("{base}/system/runs")).await;
    shot(&driver, "08-runs").await;
    goto(&driver, format!("{base}/system/audit")).await;
    shot(&driver, "09-audit").await;

    // Alerts: a Teams destination through the form, a test message to a
    // real receiver, a rule; the webhook's secret path is never shown.
    let hook = Webhook::start(&[]).await;
    click(&driver, "nav-alerts").await;
    wait_for_path(&driver, "/system/alerts", "the alerts page").await;
    fill(&driver, "teams-name", "Ops channel").await;
    fill(&driver, "teams-url", &hook.url).await;
    click(&driver, "add-teams").await;
    wait_for_text(&driver, "flash", "added", "the new destination").await;
    let row = driver
        .find(By::Css("#destinations tbody tr"))
        .await
        .unwrap();
    let dest_id = row
        .attr("id")
        .await
        .unwrap()
        .unwrap_or_default()
        .trim_start_matches("destination-")
        .to_owned();
    click(&driver, &format!("test-destination-{dest_id}")).await;
    wait_for_text(&driver, "flash", "Test message sent", "the test delivery").await;
    assert_eq!(hook.accepted().len(), 1);
    fill(&driver, "rule-name", "Failed runs to Ops").await;
    fill(&driver, "rule-cooldown", "3600").await;
    fill(&driver, "rule-quiet", "22:00-07:00").await;
    click(&driver, &format!("rule-destination-{dest_id}")).await;
    click(&driver, "add-rule").await;
    wait_for_text(&driver, "rules", "Failed runs to Ops", "the new rule").await;
    let badge = driver
        .find(By::Css("#deliveries .pill"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(badge, "sent");
    assert!(!driver.source().await.unwrap().contains("secret-token"));
    shot(&driver, "12-alerts").await;
    driver
        .execute(
            "document.getElementById('rules').scrollIntoView(); return true;",
            vec![],
        )
        .await
        .unwrap();
    shot(&driver, "13-alert-rules-and-deliveries").await;

    // A viewer: no start button, and 403 when posting anyway.
    driver.delete_all_cookies().await.unwrap();
    sign_in(&driver, &base, "system", "viewer@ops.test").await;
    wait_for_path(&driver, "/system", "the viewer's dashboard").await;
    goto(
        &driver,
        format!("{base}/system/runbooks/{LIFECYCLE}?scope=all"),
    )
    .await;
    eventually(10, "the viewer's preflight", || async {
        text(&driver, "pf-tenants").await == "7"
    })
    .await;
    assert!(
        driver
            .find_all(By::Id("start-button"))
            .await
            .unwrap()
            .is_empty(),
        "no start button for a viewer"
    );
    shot(&driver, "10-viewer-preflight").await;
    let status = driver
        .execute(
            r#"const token = document.querySelector('input[name=_token]').value;
               const body = new URLSearchParams({_token: token, scope: 'all', reason: 'not allowed'});
               return fetch(arguments[0], {method: 'POST', body}).then(r => r.status);"#,
            vec![serde_json::json!(format!("/system/runbooks/{LIFECYCLE}/start"))],
        )
        .await
        .unwrap();
    assert_eq!(status.json(), &serde_json::json!(403));

    // The customer plane.
    driver.delete_all_cookies().await.unwrap();
    sign_in(&driver, &base, "admin", "user@acme.test").await;
    wait_for_path(&driver, "/admin/findings", "the findings page").await;
    shot(&driver, "11-admin-findings").await;

    driver.quit().await.unwrap();
    let _ = stop.send(true);
    let _ = workers.await;
    drop(server);
    t.teardown().await;
}
