//! The `tenantatlas` command line: parses, calls the services, presents.
//! `args` is the grammar, `config` the one configuration; each command group
//! has its file, and this one only hands a command to its group.

mod accounts;
mod alerts;
mod args;
mod config;
mod demo;
mod runbooks;
mod runs;
mod serve;

use std::process::ExitCode;

use clap::FromArgMatches;

use crate::doors::shell::{self, Failure};
use args::{Cli, Command};

/// Entry point of the binary.
pub fn main() -> ExitCode {
    if std::env::args_os().any(|a| a == "--help-config") {
        return help_config();
    }
    let cli = match args::command().try_get_matches() {
        Ok(matches) => match Cli::from_arg_matches(&matches) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        },
        Err(e) => e.exit(),
    };
    crate::telemetry::init(
        if cli.command.is_daemon() {
            "info"
        } else {
            "warn"
        },
        cli.config.log_filter.as_deref(),
        cli.config.json_logs(),
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tenantatlas: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let Cli {
        json,
        local_time,
        config,
        command,
    } = cli;
    if local_time {
        shell::Times::Local.choose();
    }
    let config = &config;
    match command {
        Command::Serve(args) => serve::serve(config, args).await,
        Command::Worker(args) => serve::worker(config, args).await,
        Command::Migrate => serve::migrate(config, json).await,
        Command::DeployHook(args) => serve::deploy_hook(config, args, json).await,
        Command::Demo(command) => demo::run(config, command, json).await,
        Command::Runbooks(command) => runbooks::run(config, command, json).await,
        Command::BackfillLifecycle(args) => runbooks::backfill_lifecycle(config, args, json).await,
        Command::Runs(command) => runs::run(config, command, json).await,
        Command::Alerts(command) => alerts::run(config, command, json).await,
        Command::PlatformUser(command) => accounts::platform_user(config, command, json).await,
        Command::User(command) => accounts::user(config, command, json).await,
    }
}

/// `--help-config`: every setting with its environment variable and default,
/// once, instead of on every command's `--help`.
fn help_config() -> ExitCode {
    let mut settings = args::settings_help();
    match settings.print_long_help() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}
