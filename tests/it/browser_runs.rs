//! Browser test of a run's controls in Debian's Chromium: an operator starts
//! the lifecycle backfill over all tenants with a concurrency cap, watches
//! the per-tenant table and its box score fill in as workers step, pauses and
//! resumes the run, filters the table to the failed tenants, exports it as
//! CSV, and retries the run, whose new run links back to it. Screenshots of
//! the start form with limits, the run and the retry page, at 1400 and
//! 390 px, go to `target/screenshots/`.

use tenantatlas::domain::Capability;
use tenantatlas::domain::csv_export::CSV_HEADER;
use thirtyfour::prelude::*;

use crate::support::browser::{
    artifacts, attr, browser, browser_available, chromedriver_in, current_path, eventually, goto,
    sign_in, text, viewport, wait_for_path,
};
use crate::support::web::*;
use crate::support::{Backend, TestApp};

use crate::support::runs::BACKFILL as LIFECYCLE;

/// Screenshots of the page at 1400 and 390 px, scrolled to `anchor`;
/// the window is left at 1400 px.
async fn shots(driver: &WebDriver, name: &str, anchor: &str) {
    for width in [390, 1400] {
        viewport(driver, width).await;
        driver
            .execute(
                "const e = document.getElementById(arguments[0]); if (e) e.scrollIntoView(); return true;",
                vec![serde_json::json!(anchor)],
            )
            .await
            .unwrap();
        driver
            .screenshot(&artifacts().join(format!("{name}-{width}.png")))
            .await
            .unwrap();
    }
}

/// Clicks the element `id`, scrolled to the middle of the window first so
/// that the sticky top bar does not cover it.
/// The controls sit in View run's polled part: a control swapped by a
/// poll between finding and clicking it is found again.
async fn click(driver: &WebDriver, id: &str) {
    for _ in 0..5 {
        let e = driver.find(By::Id(id)).await.unwrap();
        let clicked = async {
            e.scroll_into_view().await?;
            driver
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'}); return true;",
                    vec![e.to_json()?],
                )
                .await?;
            e.click().await
        };
        match clicked.await {
            Ok(()) => return,
            Err(e) if format!("{e:?}").contains("StaleElementReference") => continue,
            Err(other) => panic!("click #{id}: {other}"),
        }
    }
    panic!("click #{id}: swapped away five times");
}

/// The count the element `id` leads with ("9", "9 tenants"); -1 if none.
async fn number(driver: &WebDriver, id: &str) -> i64 {
    let text = text(driver, id).await;
    let first = text.split_whitespace().next().unwrap_or_default();
    first.replace(',', "").parse().unwrap_or(-1)
}

/// The states of the rows the per-tenant table shows.
async fn row_states(driver: &WebDriver) -> Vec<String> {
    let mut states = Vec::new();
    for row in driver
        .find_all(By::Css("#tenants-table tbody tr"))
        .await
        .unwrap_or_default()
    {
        states.push(
            row.attr("data-state")
                .await
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_lowercase(),
        );
    }
    states
}

/// The body of `href` fetched with the browser's own session cookies.
async fn fetch_as_browser(driver: &WebDriver, base: &str, href: &str) -> (String, String) {
    let cookies = driver.get_all_cookies().await.unwrap();
    let header = cookies
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    let r = client()
        .get(format!("{base}{href}"))
        .header(reqwest::header::COOKIE, header)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{href}");
    let kind = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (kind, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_caps_pauses_filters_exports_and_retries_a_run_in_the_browser() {
    if !browser_available() {
        return;
    }
    let t = TestApp::new(Backend::Sqlite).await.expect("sqlite");
    let app = t.app.clone();
    operator(&app, "operator@ops.test", &Capability::ALL).await;
    // 8 demo tenants and the platform; the first 3 seeded tenants fail.
    let seeded = t.seed(8, 5, 3).await;
    assert_eq!(seeded.bad_tenants, 3);
    let server = start(&app).await;
    let base = server.base.clone();
    let d = chromedriver_in(None).await;
    let driver = browser(&d).await;

    sign_in(&driver, &base, "system", "operator@ops.test").await;
    wait_for_path(&driver, "/system", "the dashboard").await;

    // The start form, with a concurrency cap.
    goto(
        &driver,
        format!("{base}/system/runbooks/{LIFECYCLE}?scope=all"),
    )
    .await;
    eventually(10, "the preflight", || async {
        text(&driver, "pf-tenants").await == "9"
    })
    .await;
    driver
        .find(By::Css("details.limits summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let cap = driver.find(By::Id("max_concurrency")).await.unwrap();
    cap.send_keys("2").await.unwrap();
    driver
        .find(By::Id("reason"))
        .await
        .unwrap()
        .send_keys("lifecycle backfill with a cap, browser test")
        .await
        .unwrap();
    click(&driver, "confirm").await;
    shots(&driver, "20-start-with-limits", "start-form").await;
    click(&driver, "start-button").await;
    eventually(10, "the run page", || async {
        current_path(&driver).await.starts_with("/system/runs/")
    })
    .await;
    let run_path = current_path(&driver).await;
    let run_id: i64 = run_path
        .trim_start_matches("/system/runs/")
        .parse()
        .expect("a run id");
    let limits = text(&driver, "limits-summary").await;
    assert!(limits.contains("at most 2 tenants at once"), "{limits}");
    let stored = app.runs().get(run_id).await.unwrap();
    assert_eq!(stored.summary_counts.total, 9);
    eventually(10, "the box score of the queued run", || async {
        number(&driver, "score-total").await == 9 && number(&driver, "score-queued").await == 9
    })
    .await;

    // Workers step one job at a time; the table and box score follow
    // without a reload.
    let worker = t.worker();
    let mut seen = Vec::new();
    for _ in 0..5 {
        worker.run_once().await.expect("a worker step");
        let run = app.runs().get(run_id).await.unwrap();
        let (ok, bad) = (run.summary_counts.succeeded, run.summary_counts.failed);
        // The box score and the rows' states agree with the stored run.
        eventually(15, "the table to follow the run", || async {
            let states = row_states(&driver).await;
            let count = |state: &str| states.iter().filter(|s| *s == state).count() as i64;
            number(&driver, "score-succeeded").await == ok
                && number(&driver, "score-failed").await == bad
                && count("succeeded") == ok
                && count("failed") == bad
                && states.len() == 9
        })
        .await;
        seen.push((ok, bad));
    }
    assert!(
        seen.windows(2).all(|w| w[0].0 + w[0].1 < w[1].0 + w[1].1),
        "each step finished a tenant: {seen:?}"
    );
    assert!(seen[4].0 + seen[4].1 >= 4, "tenants finished: {seen:?}");
    eventually(10, "the page to show the run running", || async {
        attr(&driver, "run-live", "data-status").await == "running"
    })
    .await;

    // Pause, then resume.
    click(&driver, "pause-button").await;
    eventually(10, "the paused run", || async {
        text(&driver, "run-state").await == "Paused"
            && driver.find(By::Id("resume-button")).await.is_ok()
    })
    .await;
    let paused = app.runs().get(run_id).await.unwrap();
    assert!(paused.is_paused());
    // A paused run starts no tenant: the worker's claim is put back.
    worker.run_once().await.expect("a worker step");
    let still = app.runs().get(run_id).await.unwrap();
    assert_eq!(
        still.summary_counts.processed,
        paused.summary_counts.processed
    );
    click(&driver, "resume-button").await;
    eventually(10, "the resumed run", || async {
        text(&driver, "run-state").await == "Running"
            && driver.find(By::Id("pause-button")).await.is_ok()
    })
    .await;

    // The tenant put back while paused comes round again later.
    t.clock.advance(chrono::Duration::minutes(11));
    // The rest of the run; the page sees it complete, and the table's last
    // poll brings the final box score.
    t.drain().await;
    eventually(15, "the completed run", || async {
        attr(&driver, "run-live", "data-status").await == "completed"
            && number(&driver, "score-failed").await == 3
            && number(&driver, "score-succeeded").await == 6
    })
    .await;
    let run = app.runs().get(run_id).await.unwrap();
    assert_eq!(run.summary_counts.succeeded, 6);
    assert_eq!(run.limits.max_concurrency.as_deref(), Some("2"));
    assert_eq!(number(&driver, "score-total").await, 9);
    assert_eq!(row_states(&driver).await.len(), 9);
    shots(&driver, "21-run-tenants", "tenants").await;

    // The CSV export: a header and one row per tenant.
    let href = attr(&driver, "tenants-csv", "href").await;
    let href = href.trim_start_matches(&base).to_owned();
    assert!(href.starts_with(&format!("/system/runs/{run_id}/tenants.csv")));
    let (kind, csv) = fetch_as_browser(&driver, &base, &href).await;
    assert!(kind.starts_with("text/csv"), "{kind}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some(CSV_HEADER));
    assert_eq!(lines.len(), 1 + 9, "{csv}");
    assert_eq!(lines.iter().filter(|l| l.contains(",failed,")).count(), 3);

    // Filter the table to the failed tenants.
    driver
        .find(By::Css("#tenants-state option[value=failed]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(10, "only failed tenants", || async {
        let states = row_states(&driver).await;
        states.len() == 3 && states.iter().all(|s| s == "failed")
    })
    .await;
    let href = attr(&driver, "tenants-csv", "href").await;
    let href = href.trim_start_matches(&base).to_owned();
    assert!(href.contains("state=failed"), "{href}");
    let (_, csv) = fetch_as_browser(&driver, &base, &href).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 3, "{csv}");
    assert!(lines[1..].iter().all(|l| l.contains(",failed,")), "{csv}");
    shots(&driver, "22-run-failed-filter", "tenants").await;

    // Retry with the default states.
    click(&driver, "retry-link").await;
    wait_for_path(
        &driver,
        &format!("/system/runs/{run_id}/retry"),
        "the retry page",
    )
    .await;
    let checked = driver
        .find(By::Id("retry-failed"))
        .await
        .unwrap()
        .is_selected()
        .await
        .unwrap();
    assert!(checked, "failed tenants are retried by default");
    shots(&driver, "23-retry", "retry-body").await;
    click(&driver, "confirm-button").await;
    eventually(10, "the retry run", || async {
        let p = current_path(&driver).await;
        p.starts_with("/system/runs/") && p != run_path && !p.ends_with("/retry")
    })
    .await;
    let back = text(&driver, "retry-of").await;
    assert_eq!(back, format!("run #{run_id}"));
    let link = attr(&driver, "retry-of", "href").await;
    assert_eq!(link.trim_start_matches(&base), run_path);
    let lead = driver
        .find(By::Css(".page-head .lead"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(lead.contains(&format!("retry of run #{run_id}")), "{lead}");
    eventually(10, "the retry's three tenants", || async {
        number(&driver, "score-total").await == 3
    })
    .await;

    driver.quit().await.unwrap();
    drop(server);
    t.teardown().await;
}
