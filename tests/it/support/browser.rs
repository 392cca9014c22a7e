//! The browser tests' kit: Debian's chromedriver and Chromium, a browser per
//! test, and the steps a person takes (sign in, go to, click, type, wait).
//!
//! Without chromium these tests are skipped, except under `CI=true`, where
//! they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::support::web::PASSWORD;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing: install chromium and chromium-driver"
            );
        }
        eprintln!("chromium or chromedriver missing: skipping a browser test");
    }
    present
}

pub(crate) async fn chromedriver() -> Driver {
    chromedriver_in(None).await
}

/// chromedriver whose browsers run in the time zone `tz` (the system's when `None`).
pub(crate) async fn chromedriver_in(tz: Option<&str>) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(CHROMEDRIVER);
    if let Some(tz) = tz {
        command.env("TZ", tz);
    }
    let child = command
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().unwrap(),
    }
}

pub(crate) async fn browser(d: &Driver) -> WebDriver {
    browser_with(d, d._profile.path(), true).await
}

/// A browser with its profile in `profile`, JavaScript on or off.
pub(crate) async fn browser_with(d: &Driver, profile: &Path, javascript: bool) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    if !javascript {
        caps.add_experimental_option(
            "prefs",
            serde_json::json!({"profile.managed_default_content_settings.javascript": 2}),
        )
        .unwrap();
    }
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1360,900",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))
        .unwrap();
    WebDriver::new(d.url.as_str(), caps)
        .await
        .expect("a chromium session")
}

/// Sizes the window so that the page is `width` CSS pixels wide.
pub(crate) async fn viewport(driver: &WebDriver, width: i64) {
    let height = if width < 600 { 844 } else { 900 };
    let mut outer = width;
    for _ in 0..3 {
        driver
            .set_window_rect(0, 0, outer as u32, height)
            .await
            .unwrap();
        let inner = driver
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap();
        let inner = inner.json().as_i64().unwrap_or(0);
        if inner == width {
            return;
        }
        outer += width - inner;
    }
    panic!("could not size the window to {width} px");
}

pub(crate) fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn shot(driver: &WebDriver, name: &str) {
    driver
        .screenshot(&artifacts().join(format!("{name}.png")))
        .await
        .unwrap();
}

/// Polls `check` until it holds, failing after `secs`.
pub(crate) async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn text(driver: &WebDriver, id: &str) -> String {
    match driver.find(By::Id(id)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub(crate) async fn attr(driver: &WebDriver, id: &str, name: &str) -> String {
    match driver.find(By::Id(id)).await {
        Ok(e) => e.attr(name).await.ok().flatten().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub(crate) async fn sign_in(driver: &WebDriver, base: &str, plane: &str, email: &str) {
    goto(driver, format!("{base}/{plane}/login")).await;
    type_into(driver, "email", email).await;
    type_into(driver, "password", PASSWORD).await;
    click_on(driver, By::Css("button[type=submit]")).await;
}

pub(crate) async fn goto(driver: &WebDriver, url: String) {
    driver.goto(url).await.unwrap();
}

/// Types into the field `id` after what it holds.
pub(crate) async fn type_into(driver: &WebDriver, id: &str, value: &str) {
    let e = driver.find(By::Id(id)).await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// Replaces what the field `id` holds.
pub(crate) async fn fill(driver: &WebDriver, id: &str, value: &str) {
    let e = driver.find(By::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

pub(crate) async fn click_on(driver: &WebDriver, by: By) {
    driver.find(by).await.unwrap().click().await.unwrap();
}

pub(crate) async fn click(driver: &WebDriver, id: &str) {
    click_on(driver, By::Id(id)).await;
}

/// Waits up to 10 s for the element `id` to hold `needle` in its text.
pub(crate) async fn wait_for_text(driver: &WebDriver, id: &str, needle: &str, what: &str) {
    eventually(10, what, || async {
        text(driver, id).await.contains(needle)
    })
    .await;
}

/// Waits up to 10 s for the browser to show `path`.
pub(crate) async fn wait_for_path(driver: &WebDriver, path: &str, what: &str) {
    eventually(10, what, || async { current_path(driver).await == path }).await;
}

pub(crate) async fn current_path(driver: &WebDriver) -> String {
    driver
        .current_url()
        .await
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

/// The browser tests' world: SQLite with six demo tenants (one bad), the
/// operator `operator@ops.test` with every capability (returned as the
/// actor the console would make of them) and the customer `user@acme.test`.
pub(crate) async fn operator_world() -> (crate::support::TestApp, tenantatlas::domain::Actor) {
    use tenantatlas::domain::{Actor, Capability, CapabilitySet};
    use tenantatlas::runs::Initiator;
    let t = crate::support::TestApp::new(crate::support::Backend::Sqlite)
        .await
        .expect("sqlite");
    let email = "operator@ops.test";
    let id = crate::support::web::operator(&t.app, email, &Capability::ALL).await;
    crate::support::web::customer(&t.app, "user@acme.test").await;
    t.seed(6, 40, 1).await;
    let ops = Actor {
        initiator: Initiator::PlatformUser {
            id,
            email: email.into(),
        },
        capabilities: CapabilitySet::all(),
        ip: Some("127.0.0.1".into()),
    };
    (t, ops)
}
