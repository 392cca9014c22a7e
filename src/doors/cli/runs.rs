//! `runs list|show|cancel|retry-failed|retry|tenants|pause|resume|limits`:
//! operation runs and the operator's controls over them.

use std::process::ExitCode;

use super::args::{LimitArgs, RunsCommand};
use super::config::{Config, actor};
use crate::domain::Reason;
use crate::doors::shell::{self, Failure};
use crate::runs::{RunFilter, RunLimits, TenantQuery, TenantState};

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
                    let runs = app.runs().runs(&actor, &filter).await?;
                    shell::runs(json, &runs);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Show { id } => {
            config
                .with_app(async |app| {
                    let run = app.runs().run(&actor, id).await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Cancel { id } => {
            config
                .with_app(async |app| {
                    let run = app.runs().cancel(&actor, id).await?;
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
                        .runs()
                        .retry_failed(&actor, id, reason.as_deref())
                        .await?;
                    shell::finish_start(app, ensured.run, ensured.created, wait.concurrency(), json)
                        .await
                })
                .await
        }
        RunsCommand::Retry {
            id,
            states,
            reason,
            limits,
            wait,
        } => {
            Reason::parse(reason.as_deref(), false).map_err(Failure::bad_input)?;
            let states = TenantState::parse_retry_states(states.as_deref())?;
            config
                .with_app(async |app| {
                    let ensured = app
                        .runs()
                        .retry_with(&actor, id, &states, reason.as_deref(), limits.text())
                        .await?;
                    shell::finish_start(app, ensured.run, ensured.created, wait.concurrency(), json)
                        .await
                })
                .await
        }
        RunsCommand::Tenants {
            id,
            state,
            search,
            sort,
            csv,
            page,
            per_page,
        } => {
            if csv && json {
                return Err(Failure::bad_input("choose one of --csv and --json"));
            }
            let query = TenantQuery::parse(
                state.as_deref(),
                search.as_deref(),
                sort.as_deref(),
                Some(&page),
                Some(&per_page),
            )?;
            config
                .with_app(async |app| {
                    if csv {
                        let rows = app.runs().run_tenants_all(&actor, id, &query).await?;
                        shell::tenants_csv(&rows)?;
                    } else {
                        let page = app.runs().run_tenants(&actor, id, &query).await?;
                        shell::tenants(json, &page);
                    }
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Pause { id } => {
            config
                .with_app(async |app| {
                    let run = app.runs().pause(&actor, id).await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Resume { id } => {
            config
                .with_app(async |app| {
                    let run = app.runs().resume(&actor, id).await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunsCommand::Limits { id, limits } => {
            if limits.max_concurrency.is_none()
                && limits.max_errors.is_none()
                && limits.min_finished.is_none()
            {
                return Err(Failure::bad_input(
                    "give --max-concurrency, --max-errors or --min-finished",
                ));
            }
            check_limits(&limits)?;
            config
                .with_app(async |app| {
                    let run = app
                        .runs()
                        .set_limits(
                            &actor,
                            id,
                            limits.max_concurrency.as_deref(),
                            limits.max_errors.as_deref(),
                            limits.min_finished.as_deref(),
                        )
                        .await?;
                    shell::run(json, &run);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
    }
}

/// Checks a run's limits before the database is opened, so bad input
/// writes nothing.
pub fn check_limits(limits: &LimitArgs) -> Result<RunLimits, Failure> {
    Ok(RunLimits::parse(
        limits.max_concurrency.as_deref(),
        limits.max_errors.as_deref(),
        limits.min_finished.as_deref(),
    )?)
}
