//! The CLI in a pipe whose reader closes early (`… | head -1`): it ends
//! quietly with exit 0, in text and in JSON.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::both_backends;
use crate::support::argv;

/// Runs a command line, reads one line of its output, closes the pipe, and
/// returns the exit code and what it wrote to stderr.
async fn first_line_only(url: &str, line: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
        .args(argv(line))
        .current_dir(dir.path())
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tenantatlas");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).await.expect("one line");
    assert!(!first.is_empty(), "{line}: printed nothing");
    drop(stdout);
    let mut stderr = String::new();
    let mut err = child.stderr.take().expect("stderr");
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        err.read_to_string(&mut stderr).await.expect("stderr");
        child.wait().await.expect("wait")
    })
    .await
    .expect("the command ends once its reader is gone");
    (waited.code(), stderr)
}

both_backends!(
    a_reader_that_closes_early_ends_the_command_quietly,
    |t| async move {
        // 5,000 tenants: far more output than a pipe buffers.
        t.seed(5_000, 0, 0).await;
        for line in [
            "runbooks preflight findings.backfill-lifecycle --all-tenants",
            "runbooks preflight findings.backfill-lifecycle --all-tenants --json",
            "findings:backfill-lifecycle --all-tenants --preflight",
            "runbooks list",
            "runbooks list --json",
            "runs list --json",
        ] {
            let (code, stderr) = first_line_only(&t.db.url, line).await;
            assert_eq!(code, Some(0), "{line}: {stderr}");
            assert!(!stderr.contains("panicked"), "{line}: {stderr}");
            assert!(!stderr.contains("Broken pipe"), "{line}: {stderr}");
        }
    }
);
