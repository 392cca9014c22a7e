//! `runs list|show|cancel|retry-failed`: operation runs.

use std::process::ExitCode;

use super::args::RunsCommand;
use super::config::{Config, actor};
use crate::domain::Reason;
use crate::doors::shell::{self, Failure};
use crate::runs::RunFilter;

pub async fn run(config: &Config, command: RunsCommand, json: bool) -> Result<ExitCode, Failure> {
    let actor = actor();
    match command {
        RunsCommand::List {
            runbook,
            status,
            outcome,
            limit,
        } => {
            let filter = RunFilter {
                limit: limit.clamp(1, 1000),
                ..RunFilter::parse(runbook.as_deref(), status.as_deref(), outcome.as_deref())?
            };
            config
                .with_app(async |app| {
                    let runs = app.runbooks().runs(&actor, &filter).await?;
                    shell::runs(json, &runs);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Show { id } => {
            config
                .with_app(async |app| {
                    let run = app.runbooks().run(&actor, id).await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Cancel { id } => {
            config
                .with_app(async |app| {
                    let run = app.runbooks().cancel(&actor, id).await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::RetryFailed { id, reason, wait } => {
            Reason::parse(reason.as_deref(), false).map_err(Failure::bad_input)?;
            config
                .with_app(async |app| {
                    let ensured = app
                        .runbooks()
                        .retry_failed(&actor, id, reason.as_deref())
                        .await?;
                    shell::finish_start(app, ensured.run, ensured.created, wait.concurrency(), json)
                        .await
                })
                .await
        }
    }
}
