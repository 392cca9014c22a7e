//! The real `tenantatlas` binary, run as a process against a database.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::support::argv;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

pub async fn tenantatlas<S: AsRef<OsStr>>(
    url: &str,
    args: &[S],
    envs: &[(&str, &str)],
    dir: &Path,
) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantatlas"));
    cmd.args(args)
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("TENANTATLAS_CHUNK_SIZE", "7")
        .env(
            "TENANTATLAS_WEBHOOK_ALLOWED_HOSTS",
            "127.0.0.1,hooks.example.test",
        )
        .env_remove("TENANTATLAS_DEPLOY_RUNBOOKS")
        .env_remove("TENANTATLAS_RELEASE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run tenantatlas");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The binary against one database, run from its own scratch folder with
/// the same extra environment for every command and worker.
pub struct Binary<'a> {
    url: &'a str,
    envs: &'a [(&'a str, &'a str)],
    dir: tempfile::TempDir,
}

impl<'a> Binary<'a> {
    pub fn new(url: &'a str, envs: &'a [(&'a str, &'a str)]) -> Binary<'a> {
        let dir = tempfile::tempdir().unwrap();
        Binary { url, envs, dir }
    }

    /// Runs one command line, split into words as a shell would.
    pub async fn run(&self, line: &str) -> Output {
        tenantatlas(self.url, &argv(line), self.envs, self.dir.path()).await
    }

    /// `worker --concurrency <concurrency>` in the background, its output
    /// dropped; killed when the child is dropped.
    pub fn spawn_worker(&self, concurrency: u32) -> tokio::process::Child {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
            .args(["worker", "--concurrency", &concurrency.to_string()])
            .current_dir(self.dir.path())
            .env("DATABASE_URL", self.url)
            .envs(self.envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn worker")
    }
}
