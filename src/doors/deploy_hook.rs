//! `tenantatlas deploy:hook`: run after migrations in a deploy. Starts the
//! deploy runbooks where there is work and, unless `--wait`, returns at once.

use std::process::ExitCode;

use crate::app::App;
use crate::doors::shell::out;
use crate::doors::shell::{self, Failure};
use crate::runs::Outcome;

/// Whether `TENANTATLAS_DEPLOY_RUNBOOKS` turns the hook off.
pub fn is_off(deploy_runbooks: &str) -> bool {
    deploy_runbooks.eq_ignore_ascii_case("off")
}

/// Says that the hook is off; nothing is opened or written.
pub fn skipped(json: bool) -> ExitCode {
    shell::line(
        json,
        &serde_json::json!({"skipped": true, "actions": []}),
        "deploy runbooks are off (TENANTATLAS_DEPLOY_RUNBOOKS=off)",
    );
    ExitCode::SUCCESS
}

/// Starts the deploy runbooks where there is work; with `wait`, works the
/// queue until their runs complete (`wait` jobs at once).
pub async fn run(
    app: &App,
    release: Option<String>,
    wait: Option<usize>,
    json: bool,
) -> Result<ExitCode, Failure> {
    let actions = app.runbooks().deploy_hook(release).await?;
    let run_ids: Vec<i64> = actions
        .iter()
        .filter_map(|a| a.run.as_ref().map(|r| r.id))
        .collect();
    if !json {
        for a in &actions {
            match &a.run {
                Some(run) => out!(
                    "{}: {} run {} ({} items pending)",
                    a.runbook,
                    a.action,
                    run.id,
                    a.items_pending
                ),
                None => out!("{}: nothing to do", a.runbook),
            }
        }
    }
    let concurrency = match wait {
        Some(concurrency) if !run_ids.is_empty() => concurrency,
        _ => {
            if json {
                shell::json(&serde_json::json!({"skipped": false, "actions": actions}));
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let runs = shell::wait_for(app, &run_ids, concurrency, !json).await?;
    let mut code = ExitCode::SUCCESS;
    for run in &runs {
        if !json {
            shell::run(false, run);
        }
        if run.outcome != Outcome::Succeeded {
            code = ExitCode::from(1);
        }
    }
    if json {
        shell::json(&serde_json::json!({"skipped": false, "actions": actions, "runs": runs}));
    }
    Ok(code)
}
