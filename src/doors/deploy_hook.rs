//! `tenantatlas deploy:hook`: run after migrations in a deploy. Starts the
//! deploy runbooks where there is work and, unless `--wait`, returns at once.

use std::process::ExitCode;

use crate::app::App;
use crate::doors::cli::{present_line, present_run, wait_for};
use crate::runs::Outcome;

pub(crate) async fn run(
    app: &App,
    release: Option<String>,
    wait: bool,
    concurrency: usize,
    json: bool,
) -> Result<ExitCode, crate::doors::cli::Failure> {
    let actions = app.runbooks().deploy_hook(release).await?;
    let run_ids: Vec<i64> = actions.iter().filter_map(|a| a.run.as_ref().map(|r| r.id)).collect();
    if !json {
        for a in &actions {
            match &a.run {
                Some(run) => println!("{}: {} run {} ({} items pending)", a.runbook, a.action, run.id, a.items_pending),
                None => println!("{}: nothing to do", a.runbook),
            }
        }
    }
    if !wait || run_ids.is_empty() {
        if json {
            present_line(true, &serde_json::json!({"skipped": false, "actions": actions}), "");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runs = wait_for(app, &run_ids, concurrency, !json).await?;
    let mut code = ExitCode::SUCCESS;
    for run in &runs {
        if !json {
            present_run(false, run);
        }
        if run.outcome != Outcome::Succeeded {
            code = ExitCode::from(1);
        }
    }
    if json {
        present_line(true, &serde_json::json!({"skipped": false, "actions": actions, "runs": runs}), "");
    }
    Ok(code)
}
