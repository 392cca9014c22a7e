//! Schemathesis (<https://schemathesis.readthedocs.io>) against the OpenAPI
//! description: the real server on PostgreSQL with the demo data, an
//! operator's session, every check, a bounded number of examples. No 5xx, no
//! answer the description does not allow, no request the description refuses
//! accepted, none it allows refused. The checks' settings and the reasons for
//! each exception are in `tests/schemathesis.toml`.
//!
//! The binary is `$SCHEMATHESIS`, or `st` on the PATH (`.ci/run` installs
//! it). Without it, or without PostgreSQL, the test is skipped, except in CI
//! (`CI` set), where either missing fails it.

use std::path::PathBuf;
use std::process::Command;

use tenantatlas::console::DEMO_OPERATOR_EMAIL;
use tenantatlas::doors::web::SYSTEM_COOKIE;
use tenantatlas::runbooks::ScopeRequest;

use crate::support::runs::BACKFILL;
use crate::support::runs::cli as trusted;
use crate::support::web::{client, login_as, set_cookies, start};
use crate::support::{Backend, TestApp};

/// Examples per operation and phase: enough to find what the suite has
/// found so far, small enough to finish in about a minute.
const MAX_EXAMPLES: &str = "100";

/// The schemathesis binary, or None (outside CI) when there is none.
fn binary() -> Option<PathBuf> {
    let named = std::env::var_os("SCHEMATHESIS").map(PathBuf::from);
    let found = named.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("st"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but schemathesis is missing: set SCHEMATHESIS or put `st` on the PATH (.ci/run installs it)"
            )
        }
        None => {
            eprintln!("schemathesis is not installed (SCHEMATHESIS or `st` on the PATH): skipping");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_nothing_against_the_description() {
    let Some(st) = binary() else { return };
    let Some(t) = TestApp::new(Backend::Postgres).await else {
        return;
    };
    const PASSWORD: &str = "schemathesis operator password";
    let demo = t.app.demo().seed_demo(Some(PASSWORD)).await.expect("demo");
    // A completed run with failed tenants (retry has something to retry)
    // and an active one (pause, limits and cancel have something to act on).
    let runbooks = t.app.runbooks();
    let all = ScopeRequest::AllTenants;
    let done = runbooks.start(&trusted(), BACKFILL, &all, None).await;
    t.drain().await;
    let going = runbooks.start(&trusted(), BACKFILL, &all, None).await;
    let going = going.expect("run").run.id;
    t.app.runs().pause(&trusted(), going).await.expect("pause");
    // The ids tests/schemathesis.toml names.
    assert_eq!((done.expect("run").run.id, going), (1, 2));

    let server = start(&t.app).await;
    let c = client();
    let r = login_as(&c, &server.base, "system", &demo.operator_email, PASSWORD).await;
    assert_eq!(r.status(), 303, "the demo operator signs in");
    assert_eq!(demo.operator_email, DEMO_OPERATOR_EMAIL);
    // The session goes in as the description's security scheme (the config
    // reads it from the environment), so schemathesis also tries each
    // operation without it.
    let prefix = format!("{SYSTEM_COOKIE}=");
    let session = set_cookies(&r)
        .into_iter()
        .filter_map(|c| {
            c.split(';')
                .next()?
                .strip_prefix(&prefix)
                .map(str::to_owned)
        })
        .next()
        .expect("a session cookie");

    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    let report = tempfile::tempdir().expect("report dir");
    let base = server.base.clone();
    // The description as served (to the operator: it is behind the session).
    let served = c
        .get(format!("{base}/system/api/openapi.json"))
        .send()
        .await;
    let document = served
        .expect("the description")
        .bytes()
        .await
        .expect("body");
    let location = report.path().join("openapi.json");
    std::fs::write(&location, &document).expect("write the description");
    let mut command = Command::new(&st);
    // Its cache (`.schemathesis/`) goes to the scratch folder, not the repo.
    command
        .current_dir(report.path())
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(&location)
        .args(["--url", &base])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        // One worker: hypothesis's generation is not safe across Python threads
        // ("AST constructor recursion depth mismatch" now and then).
        .args(["--workers", "1"])
        .env("TENANTATLAS_SESSION", session)
        .args(["-H", &format!("Origin: {base}")])
        .arg("--report-dir")
        .arg(report.path())
        .args(["--no-color", "--generation-deterministic"]);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "schemathesis found problems (exit {:?}); its report is above",
        output.status.code()
    );
    drop(server);
    t.teardown().await;
}
