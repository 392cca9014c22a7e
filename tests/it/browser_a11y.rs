//! The console at phone and desktop width, for keyboard and screen-reader
//! users: every main page of both planes, at 390 px and at 1400 px, is no
//! wider than the window and has no serious or critical axe-core finding
//! (WCAG 2.1 A and AA rules); the skip link comes first; the menu folds
//! behind a button that opens by keyboard at 390 px; times show in the
//! browser's time zone with UTC on hover. Screenshots of every page at both
//! widths go to `target/screenshots/`.
//!
//! axe-core comes from the npm registry (`npm install` into `target/axe` when
//! it is missing), at the one version pinned here.

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, FixedOffset};
use tenantatlas::runbooks::ScopeRequest;
use thirtyfour::prelude::*;

use crate::support::browser::{
    artifacts, browser, browser_available, browser_with, chromedriver_in, current_path, goto,
    operator_world, sign_in, viewport, wait_for_path,
};
use crate::support::drain;
use crate::support::web::*;

/// The axe-core release the accessibility check uses.
const AXE_CORE_VERSION: &str = "4.14.1";
use crate::support::runs::BACKFILL as LIFECYCLE;
const IDS: &str = "workspaces.backfill-ids";
/// The browsers' time zone: UTC+05:30 all year, so local time always differs.
const TZ: &str = "Asia/Kolkata";
const WIDTHS: [i64; 2] = [390, 1400];

/// The axe-core script, installed from the npm registry on first use; `None`
/// (the test is skipped) without npm, except under `CI=true`.
fn axe_script() -> Option<String> {
    let prefix = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe");
    let script = prefix.join("node_modules/axe-core/axe.min.js");
    let installed = std::fs::read_to_string(prefix.join("node_modules/axe-core/package.json"))
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")));
    if !installed {
        if Command::new("npm").arg("--version").output().is_err() {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI=true but npm is missing: install nodejs and npm"
            );
            eprintln!("npm missing: skipping the accessibility test");
            return None;
        }
        std::fs::create_dir_all(&prefix).unwrap();
        let status = Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(format!("axe-core@{AXE_CORE_VERSION}"))
            .status()
            .expect("npm (node) to install axe-core");
        assert!(status.success(), "npm install axe-core@{AXE_CORE_VERSION}");
    }
    Some(std::fs::read_to_string(&script).expect("axe.min.js"))
}

/// What is wrong with the page on screen, as lines for the failure report.
async fn check_page(driver: &WebDriver, axe: &str, name: &str, width: i64) -> Vec<String> {
    let mut problems = check_width(driver, name, width).await;
    problems.extend(check_axe(driver, axe, name, width).await);
    problems
}

/// The page is no wider than the window and its top bar spans it; saves a
/// screenshot.
async fn check_width(driver: &WebDriver, name: &str, width: i64) -> Vec<String> {
    let mut problems = Vec::new();
    let sizes = driver
        .execute(
            r#"const bar = document.querySelector('.topbar');
               return [document.documentElement.scrollWidth, window.innerWidth,
                       bar ? Math.round(bar.getBoundingClientRect().width) : window.innerWidth];"#,
            vec![],
        )
        .await
        .unwrap();
    let sizes: Vec<i64> = serde_json::from_value(sizes.json().clone()).unwrap();
    assert_eq!(sizes[1], width, "{name}: the window is {width} px wide");
    if sizes[2] < sizes[1] - 20 {
        // A vertical scroll bar may take its width from the page, not more.
        problems.push(format!(
            "{name} @ {width}px: the top bar is {} px wide, short of the {} px window",
            sizes[2], sizes[1]
        ));
    }
    if sizes[0] > sizes[1] {
        // Name the innermost elements that stick out, to say what to fix.
        let culprits = driver
            .execute(
                r#"const w = window.innerWidth;
                   const out = [...document.body.querySelectorAll('*')]
                     .filter(e => e.getBoundingClientRect().right > w + 1);
                   return out.filter(e => ![...e.children].some(c => out.includes(c)))
                     .slice(0, 4)
                     .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                       + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : ''));"#,
                vec![],
            )
            .await
            .unwrap();
        problems.push(format!(
            "{name} @ {width}px: the page is {} px wide, wider than the {} px window ({})",
            sizes[0],
            sizes[1],
            culprits.json()
        ));
    }
    // At desktop width no table is wider than its card (no sideways
    // scrolling inside a card: columns wrap or are left out).
    if width >= 1400 {
        let wide = driver
            .execute(
                r#"return [...document.querySelectorAll('table')].map(t => {
                     const card = t.closest('.card') || document.body;
                     const inner = card.clientWidth;
                     return [t.id || t.className, Math.round(t.scrollWidth), inner];
                   }).filter(([_, w, inner]) => w > inner);"#,
                vec![],
            )
            .await
            .unwrap();
        let wide: Vec<(String, i64, i64)> = serde_json::from_value(wide.json().clone()).unwrap();
        for (table, w, card) in wide {
            problems.push(format!(
                "{name} @ {width}px: table {table} is {w} px wide in a {card} px card"
            ));
        }
    }
    driver
        .screenshot(&artifacts().join(format!("{name}-{width}.png")))
        .await
        .unwrap();
    problems
}

/// axe-core's serious and critical WCAG 2.1 A/AA findings on the page.
async fn check_axe(driver: &WebDriver, axe: &str, name: &str, width: i64) -> Vec<String> {
    let mut problems = Vec::new();
    if driver
        .execute("return typeof window.axe === 'undefined';", vec![])
        .await
        .unwrap()
        .json()
        == &serde_json::json!(true)
    {
        driver.execute(axe, vec![]).await.unwrap();
    }
    let found = driver
        .execute(
            r#"return axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})
                 .then(r => r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                     + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')));"#,
            vec![],
        )
        .await
        .unwrap();
    let found: Vec<String> = serde_json::from_value(found.json().clone()).unwrap();
    problems.extend(
        found
            .into_iter()
            .map(|v| format!("{name} @ {width}px: {v}")),
    );
    problems
}

/// Presses keys in the page.
async fn press(driver: &WebDriver, key: Key) {
    driver
        .action_chain()
        .send_keys(key)
        .perform()
        .await
        .unwrap();
}

async fn active_element(driver: &WebDriver) -> (String, String) {
    let r = driver
        .execute(
            "const a = document.activeElement; return [a.id || a.tagName.toLowerCase(), a.className || ''];",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(r.json().clone()).unwrap()
}

async fn displayed(driver: &WebDriver, css: &str) -> bool {
    driver
        .find(By::Css(css))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap()
}

/// Checks every page at both widths; returns what is wrong.
async fn check_all(
    driver: &WebDriver,
    axe: &str,
    base: &str,
    pages: &[(&str, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for width in WIDTHS {
        viewport(driver, width).await;
        for (name, path) in pages {
            goto(driver, format!("{base}{path}")).await;
            problems.extend(check_page(driver, axe, name, width).await);
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_main_page_fits_a_phone_and_passes_axe() {
    if !browser_available() {
        return;
    }
    let Some(axe) = axe_script() else {
        return;
    };
    let (t, ops) = operator_world().await;
    let app = t.app.clone();

    // A completed run with a failed tenant (so a notification, a retry page,
    // failures, audit entries and an alert delivery exist), and a queued one.
    let hook = crate::support::receivers::Webhook::start(&[]).await;
    let dest = app
        .alert_service()
        .add_destination(
            &ops,
            "Ops channel",
            tenantatlas::alerts::Channel::teams(&hook.url).unwrap(),
        )
        .await
        .unwrap();
    app.alert_service()
        .add_rule(
            &ops,
            tenantatlas::alerts::RuleRequest {
                name: "Failed runs to Ops".into(),
                event: "operation_run.failed".into(),
                destination_ids: vec![dest.id],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let done = app
        .runbooks()
        .start(
            &ops,
            LIFECYCLE,
            &ScopeRequest::AllTenants,
            Some("lifecycle backfill after release 2026.3"),
        )
        .await
        .unwrap()
        .run
        .id;
    drain(&app).await;
    let active = app
        .runbooks()
        .start(&ops, IDS, &ScopeRequest::AllTenants, Some("ids backfill"))
        .await
        .unwrap()
        .run
        .id;

    let server = start(&app).await;
    let base = server.base.clone();
    let d = chromedriver_in(Some(TZ)).await;
    let driver = browser(&d).await;
    let mut problems = Vec::new();

    // Signed out: the sign-in pages.
    let signin = [
        ("system-sign-in", "/system/login".to_owned()),
        ("admin-sign-in", "/admin/login".to_owned()),
    ];
    problems.extend(check_all(&driver, &axe, &base, &signin).await);

    sign_in(&driver, &base, "system", "operator@ops.test").await;
    wait_for_path(&driver, "/system", "the dashboard").await;
    sign_in(&driver, &base, "admin", "user@acme.test").await;
    wait_for_path(&driver, "/admin/findings", "the findings page").await;

    let pages = [
        ("system-dashboard", "/system".to_owned()),
        ("system-runbooks", "/system/runbooks".to_owned()),
        (
            "system-runbook-preflight",
            format!("/system/runbooks/{LIFECYCLE}?scope=all"),
        ),
        ("system-runs", "/system/runs".to_owned()),
        ("system-run", format!("/system/runs/{done}")),
        ("system-run-active", format!("/system/runs/{active}")),
        ("system-retry", format!("/system/runs/{done}/retry-failed")),
        ("system-audit", "/system/audit".to_owned()),
        (
            "system-alert-delete",
            format!("/system/alerts/destinations/{}/delete", dest.id),
        ),
        ("system-alerts", "/system/alerts".to_owned()),
        ("system-notifications", "/system/notifications".to_owned()),
        ("system-not-found", "/system/no-such-page".to_owned()),
        ("admin-findings", "/admin/findings".to_owned()),
        ("admin-runs", "/admin/runs".to_owned()),
        ("admin-run", format!("/admin/runs/{done}")),
    ];
    problems.extend(check_all(&driver, &axe, &base, &pages).await);

    // The skip link is the first thing Tab reaches, and leads to the content.
    for width in WIDTHS {
        viewport(&driver, width).await;
        for path in ["/system/runs", "/admin/findings", "/system/no-such-page"] {
            goto(&driver, format!("{base}{path}")).await;
            press(&driver, Key::Tab).await;
            let (_, class) = active_element(&driver).await;
            assert_eq!(
                class, "skip-link",
                "{path} @ {width}px: Tab reaches the skip link first"
            );
            assert!(displayed(&driver, ".skip-link").await);
            press(&driver, Key::Enter).await;
            assert_eq!(
                active_element(&driver).await.0,
                "main",
                "{path}: the skip link moves focus to the content"
            );
        }
    }

    // At 390 px the menu folds behind a button that opens by keyboard; at
    // 1400 px it is simply there.
    viewport(&driver, 390).await;
    goto(&driver, format!("{base}/system/runs")).await;
    assert!(
        !displayed(&driver, "#nav-alerts").await,
        "the menu starts folded"
    );
    assert!(displayed(&driver, ".menu-button").await);
    assert!(displayed(&driver, "#bell").await, "the bell stays in view");
    press(&driver, Key::Tab).await; // skip link
    press(&driver, Key::Tab).await; // brand
    press(&driver, Key::Tab).await; // the menu button
    assert_eq!(active_element(&driver).await.0, "menu-toggle");
    press(&driver, Key::Space).await;
    assert!(
        displayed(&driver, "#nav-alerts").await,
        "Space opens the menu"
    );
    let fits = driver
        .execute(
            "return [...document.querySelectorAll('.mainnav a, .account button')].every(e => e.getBoundingClientRect().right <= window.innerWidth);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits.json(),
        &serde_json::json!(true),
        "every menu entry fits the width"
    );
    driver
        .screenshot(&artifacts().join("system-menu-open-390.png"))
        .await
        .unwrap();
    driver
        .find(By::Id("nav-alerts"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&driver, "/system/alerts", "the alerts page from the menu").await;
    viewport(&driver, 1400).await;
    goto(&driver, format!("{base}/system/runs")).await;
    assert!(displayed(&driver, "#nav-alerts").await);
    assert!(!displayed(&driver, ".menu-button").await);

    // Times: the browser's local time in the text, UTC on hover.
    let time = driver.find(By::Css("time[datetime]")).await.unwrap();
    let iso = time.attr("datetime").await.unwrap().unwrap();
    let title = time.attr("title").await.unwrap().unwrap();
    let shown = time.text().await.unwrap();
    let at: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(&iso).unwrap();
    let local = at.with_timezone(&FixedOffset::east_opt(5 * 3600 + 1800).unwrap());
    assert_eq!(title, at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    assert!(
        shown.starts_with(&local.format("%Y-%m-%d %H:%M:%S ").to_string())
            && !shown.ends_with("UTC"),
        "{shown} is {iso} in {TZ}"
    );
    assert_eq!(current_path(&driver).await, "/system/runs");

    driver.quit().await.unwrap();

    // Without JavaScript: times read in UTC, the menu still opens by keyboard.
    let profile = tempfile::tempdir().unwrap();
    let driver = browser_with(&d, profile.path(), false).await;
    sign_in(&driver, &base, "system", "operator@ops.test").await;
    wait_for_path(&driver, "/system", "the dashboard without JavaScript").await;
    viewport(&driver, 390).await;
    goto(&driver, format!("{base}/system/runs")).await;
    let js = driver
        .execute(
            "return !!document.querySelector('time[data-local]');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        js.json(),
        &serde_json::json!(false),
        "the page's scripts did not run"
    );
    // (Read as text content: at 390 px the runs list leaves its times to
    // each run's own page.)
    let shown = driver
        .execute(
            "return document.querySelector('time[datetime]').textContent.trim();",
            vec![],
        )
        .await
        .unwrap();
    let shown = shown.json().as_str().unwrap_or_default().to_owned();
    assert!(shown.ends_with(" UTC"), "{shown}");
    assert!(!displayed(&driver, "#nav-alerts").await);
    press(&driver, Key::Tab).await;
    press(&driver, Key::Tab).await;
    press(&driver, Key::Tab).await;
    press(&driver, Key::Space).await;
    assert!(
        displayed(&driver, "#nav-alerts").await,
        "the menu opens without JavaScript"
    );
    problems.extend(check_width(&driver, "system-runs-no-js", 390).await);
    driver.quit().await.unwrap();
    drop(server);
    t.teardown().await;
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
