//! Waiting for runs: the queue is worked in this process meanwhile, and a
//! progress bar shows on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::failure::Failure;
use super::present;
use crate::app::App;
use crate::domain::figures::{count, duration};
use crate::runs::{Outcome, Run, RunStatus};

/// Prints a started run, or waits for it and prints how it ended: exit 0
/// when it succeeded, 1 for any other outcome.
pub async fn finish_start(
    app: &App,
    run: Run,
    created: bool,
    wait: Option<usize>,
    json: bool,
) -> Result<ExitCode, Failure> {
    if !created && !json {
        eprintln!(
            "run {} of the same runbook and scope is already active; showing it",
            run.id
        );
    }
    let Some(concurrency) = wait else {
        present::run(json, &run);
        return Ok(ExitCode::SUCCESS);
    };
    let runs = wait_for(app, &[run.id], concurrency, !json).await?;
    let mut code = ExitCode::SUCCESS;
    for run in &runs {
        present::run(json, run);
        if run.outcome != Outcome::Succeeded {
            code = ExitCode::from(1);
        }
    }
    Ok(code)
}

/// Works the queue in this process until every run has completed; shows a
/// progress bar on a terminal.
pub async fn wait_for(
    app: &App,
    run_ids: &[i64],
    concurrency: usize,
    show_progress: bool,
) -> Result<Vec<Run>, Failure> {
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(app.worker().run(concurrency, stopped));
    let bar = (show_progress && std::io::stderr().is_terminal()).then(progress_bar);
    let runs = app.runs();
    let mut done = Vec::new();
    for id in run_ids {
        loop {
            let run = runs.get(*id).await?;
            if let Some(bar) = &bar {
                update_progress(bar, &run);
            }
            if run.status == RunStatus::Completed {
                done.push(run);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let _ = stop.send(true);
    let _ = workers.await;
    Ok(done)
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} ran  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The bar counts tenants that ran; the message names the other parts, the
/// items and the time left (none while paused).
fn update_progress(bar: &ProgressBar, run: &Run) {
    let p = &run.progress;
    bar.set_length(p.total as u64);
    bar.set_position(p.ran() as u64);
    let left = if run.is_paused() {
        " · paused".to_owned()
    } else {
        match run
            .estimate(chrono::Utc::now())
            .and_then(|e| e.seconds_remaining)
        {
            Some(s) => format!(" · {} left", duration(s * 1000)),
            None => String::new(),
        }
    };
    bar.set_message(format!(
        "{} · {} items updated{left}",
        p.parts_text(),
        count(run.summary_counts.items_updated)
    ));
    bar.tick();
}
