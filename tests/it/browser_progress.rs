//! What a stopped run really did, in Chromium: a run stopped by its error
//! budget and a cancelled run, on every page where a run's progress appears
//! (View run, the dashboard, the runs list, the notifications, the customer
//! plane's runs and run), at 1400 and 390 px: no bar or text reads 100%, the
//! not-started and cancelled tenants are counted; View run's controls are in
//! the first screen at both widths.

use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::RunLimits;
use thirtyfour::prelude::*;

use crate::support::browser::{
    artifacts, browser, browser_available, chromedriver, goto, operator_world, sign_in, viewport,
    wait_for_path,
};
use crate::support::drain;
use crate::support::runs::BACKFILL;
use crate::support::web::*;

/// What a page shows of the runs' progress bars (their run, the value and
/// the words) and whether any text on it reads "100%".
async fn bars(driver: &WebDriver) -> (Vec<(String, i64, String)>, bool) {
    let found = driver
        .execute(
            r#"return [[...document.querySelectorAll('[role=progressbar]')].map(b =>
                 [b.getAttribute('aria-label') || '', Number(b.getAttribute('aria-valuenow')),
                  b.getAttribute('aria-valuetext') || '']),
               document.body.innerText.includes('100%')];"#,
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found.json().clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_and_a_cancelled_run_never_read_complete() {
    if !browser_available() {
        return;
    }
    let (t, ops) = operator_world().await;
    let app = t.app.clone();
    // One tenant at a time and no failure allowed: the bad tenant (the
    // first after the platform tenant) stops the run with the rest not
    // started.
    let strict = RunLimits::parse(Some("1"), Some("0"), None).unwrap();
    let stopped = app
        .runbooks()
        .start_with_limits(
            &ops,
            BACKFILL,
            &ScopeRequest::AllTenants,
            Some("strict"),
            strict,
        )
        .await
        .unwrap()
        .run
        .id;
    drain(&app).await;
    let stopped_run = app.runs().get(stopped).await.unwrap();
    assert!(
        stopped_run.progress.not_started > 0,
        "the budget stopped it: {:?}",
        stopped_run.progress
    );
    let tenant = ScopeRequest::from_parts(false, Some("demo-00004")).unwrap();
    let cancelled = app
        .runbooks()
        .start(&ops, BACKFILL, &tenant, Some("to cancel"))
        .await
        .unwrap()
        .run
        .id;
    app.runs().cancel(&ops, cancelled).await.unwrap();

    let server = start(&app).await;
    let base = server.base.clone();
    let d = chromedriver().await;
    let driver = browser(&d).await;
    sign_in(&driver, &base, "system", "operator@ops.test").await;
    wait_for_path(&driver, "/system", "the dashboard").await;
    sign_in(&driver, &base, "admin", "user@acme.test").await;
    wait_for_path(&driver, "/admin/findings", "the findings page").await;

    let not_started = format!("{} not started", stopped_run.progress.not_started);
    // Each page, and which of the two runs it shows.
    let pages = [
        ("/system".to_owned(), true, true),
        ("/system/runs".to_owned(), true, true),
        (format!("/system/runs/{stopped}"), true, false),
        (format!("/system/runs/{cancelled}"), false, true),
        ("/system/notifications".to_owned(), true, true),
        ("/admin/runs".to_owned(), true, true),
        (format!("/admin/runs/{stopped}"), true, false),
        (format!("/admin/runs/{cancelled}"), false, true),
    ];
    let mut problems = Vec::new();
    for width in [1400, 390] {
        viewport(&driver, width).await;
        for (path, shows_stopped, shows_cancelled) in &pages {
            goto(&driver, format!("{base}{path}")).await;
            let text = driver
                .find(By::Tag("main"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let (found, hundred) = bars(&driver).await;
            if hundred {
                problems.push(format!("{path} @ {width}: some text reads 100%"));
            }
            for (label, value, words) in &found {
                if *value >= 100 {
                    problems.push(format!("{path} @ {width}: {label} reads {value}%: {words}"));
                }
            }
            if *shows_stopped && !text.contains(&not_started) {
                problems.push(format!(
                    "{path} @ {width}: no \"{not_started}\" in {text:.600}"
                ));
            }
            if *shows_cancelled && !text.contains("1 cancelled") {
                problems.push(format!(
                    "{path} @ {width}: no \"1 cancelled\" in {text:.600}"
                ));
            }
            // The customer plane speaks the customer's words: the run's
            // name, not its key, and what a stopped or cancelled run meant.
            if path.starts_with("/admin") {
                if text.contains(BACKFILL) || !text.contains("Backfill findings lifecycle") {
                    problems.push(format!("{path} @ {width}: the runbook's key, not its name"));
                }
                let note = match (*shows_stopped, *shows_cancelled) {
                    (true, false) => "stopped early",
                    (false, true) => "cancelled this maintenance",
                    _ => "",
                };
                if !text.contains(note) {
                    problems.push(format!("{path} @ {width}: no {note:?} in {text:.600}"));
                }
            }
            let name = path.trim_start_matches('/').replace('/', "-");
            driver
                .screenshot(&artifacts().join(format!("progress-{name}-{width}.png")))
                .await
                .unwrap();
        }
    }

    // View run's controls sit in the first screen, beside the progress,
    // at both widths (an active run: pause, cancel and the limits).
    let active = app
        .runbooks()
        .start(&ops, BACKFILL, &ScopeRequest::AllTenants, Some("active"))
        .await
        .unwrap()
        .run
        .id;
    for width in [1400, 390] {
        viewport(&driver, width).await;
        goto(&driver, format!("{base}/system/runs/{active}")).await;
        let seen = driver
            .execute(
                r#"const r = id => document.getElementById(id).getBoundingClientRect();
                   return [r('pause-button').bottom, r('cancel-link').bottom,
                           r('limits-summary').bottom, window.innerHeight];"#,
                vec![],
            )
            .await
            .unwrap();
        let seen: Vec<f64> = serde_json::from_value(seen.json().clone()).unwrap();
        let height = seen[3];
        for (what, bottom) in ["pause", "cancel", "the limits"].iter().zip(&seen) {
            if *bottom > height {
                problems.push(format!(
                    "View run @ {width}: {what} is below the first screen ({bottom} > {height})"
                ));
            }
        }
        driver
            .screenshot(&artifacts().join(format!("progress-run-active-{width}.png")))
            .await
            .unwrap();
    }
    driver.quit().await.unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
