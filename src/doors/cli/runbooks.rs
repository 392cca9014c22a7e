//! `runbooks list|preflight|run` and `findings:backfill-lifecycle` (also
//! answering to `tenantpilot:findings:backfill-lifecycle`).

use std::process::ExitCode;

use super::args::{BackfillLifecycleArgs, RunbooksCommand, ScopeArgs};
use super::config::{Config, actor};
use crate::domain::Reason;
use crate::doors::shell::out;
use crate::doors::shell::{self, Failure};
use crate::runbooks::ScopeRequest;
use crate::runbooks::{Registry, findings_lifecycle};

pub async fn run(
    config: &Config,
    command: RunbooksCommand,
    json: bool,
) -> Result<ExitCode, Failure> {
    let actor = actor();
    match command {
        RunbooksCommand::List => {
            config
                .with_app(async |app| {
                    let list = app.runbooks().list(&actor)?;
                    if json {
                        shell::json(&list);
                    }
                    for r in list.iter().filter(|_| !json) {
                        out!(
                            "{:<32} {}{}",
                            r.key,
                            r.title,
                            if r.runs_on_deploy { "  (deploy)" } else { "" }
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunbooksCommand::Preflight { key, scope } => {
            let scope = check(Some(&key), &scope, None)?;
            config
                .with_app(async |app| {
                    let preflight = app.runbooks().preflight(&actor, &key, &scope).await?;
                    shell::preflight(json, &preflight);
                    Ok(ExitCode::SUCCESS)
                })
                .await
        }
        RunbooksCommand::Run {
            key,
            scope,
            reason,
            limits,
            wait,
        } => {
            let scope = check(Some(&key), &scope, reason.as_deref())?;
            let limits = super::runs::check_limits(&limits)?;
            config
                .with_app(async |app| {
                    let ensured = app
                        .runbooks()
                        .start_with_limits(&actor, &key, &scope, reason.as_deref(), limits)
                        .await?;
                    shell::finish_start(app, ensured.run, ensured.created, wait.concurrency(), json)
                        .await
                })
                .await
        }
    }
}

/// `findings:backfill-lifecycle`: the lifecycle runbook's preflight or run.
pub async fn backfill_lifecycle(
    config: &Config,
    args: BackfillLifecycleArgs,
    json: bool,
) -> Result<ExitCode, Failure> {
    let key = findings_lifecycle::KEY.0;
    let scope = check(None, &args.scope, args.reason.as_deref())?;
    let actor = actor();
    config
        .with_app(async |app| {
            let service = app.runbooks();
            if args.preflight {
                let preflight = service.preflight(&actor, key, &scope).await?;
                shell::preflight(json, &preflight);
                return Ok(ExitCode::SUCCESS);
            }
            let ensured = service
                .start(&actor, key, &scope, args.reason.as_deref())
                .await?;
            shell::finish_start(
                app,
                ensured.run,
                ensured.created,
                args.wait.concurrency(),
                json,
            )
            .await
        })
        .await
}

/// Checks what needs no database before it is opened, so bad input writes
/// nothing: the runbook key, the reason, and exactly one scope flag.
fn check(
    key: Option<&str>,
    scope: &ScopeArgs,
    reason: Option<&str>,
) -> Result<ScopeRequest, Failure> {
    if let Some(key) = key {
        Registry::standard().require(key)?;
    }
    Reason::parse(reason, false).map_err(Failure::bad_input)?;
    Ok(ScopeRequest::from_parts(
        scope.all_tenants,
        scope.tenant.as_deref(),
    )?)
}
