//! The command line's grammar: every command, flag and environment variable
//! `tenantatlas` takes, as clap declares and `--help` shows them.

use clap::{Args, CommandFactory, Parser, Subcommand};

use super::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "tenantatlas",
    version,
    about = "TenantAtlas Ops: platform runbooks over one tenant or all tenants",
    after_help = "Settings (database, queue, web, alerts, logs): tenantatlas --help-config\nExit codes: 0 success (a waited run succeeded), 1 any other outcome or a failure, 2 bad usage or bad input."
)]
pub struct Cli {
    /// Machine output (JSON) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Write times in this machine's time zone instead of UTC.
    #[arg(long, global = true)]
    pub local_time: bool,
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

/// The grammar as parsed: the settings are accepted by every command (global)
/// but left out of each command's `--help` (they are many, and the same
/// everywhere); `--help-config` lists them once.
pub fn command() -> clap::Command {
    let settings = setting_ids();
    let cli = Cli::command().mut_args(|a| {
        if settings.contains(&a.get_id().to_string()) {
            a.hide(true).global(true)
        } else {
            a
        }
    });
    cli.mut_subcommands(pointing_to_settings)
}

/// Every command's `--help` ends by saying where the settings are.
fn pointing_to_settings(cmd: clap::Command) -> clap::Command {
    cmd.mut_subcommands(pointing_to_settings)
        .after_help("Settings (database, queue, web, alerts, logs): tenantatlas --help-config")
}

/// The settings alone, for `--help-config`.
pub fn settings_help() -> clap::Command {
    Config::augment_args(clap::Command::new("tenantatlas").disable_help_flag(true))
        .about("Settings of every tenantatlas command: a flag or its environment variable (the flag wins).")
        .override_usage("tenantatlas [SETTINGS] COMMAND …")
}

fn setting_ids() -> Vec<String> {
    Config::augment_args(clap::Command::new("settings"))
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect()
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web service and in-process workers; migrates and seeds `default`/`platform` first.
    Serve(ServeArgs),
    /// Run a worker that works the queue (several may share one PostgreSQL).
    Worker(WorkerArgs),
    /// Apply migrations and create the default workspace and platform tenant.
    Migrate,
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// List, preflight and run runbooks.
    #[command(subcommand)]
    Runbooks(RunbooksCommand),
    /// Operation runs: list, show, cancel, retry failed tenants.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Backfill the findings lifecycle (alias: tenantpilot:findings:backfill-lifecycle).
    #[command(
        name = "findings:backfill-lifecycle",
        alias = "tenantpilot:findings:backfill-lifecycle"
    )]
    BackfillLifecycle(BackfillLifecycleArgs),
    /// Alert destinations, rules and deliveries.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Start the deploy-time runbooks where there is work (TENANTATLAS_DEPLOY_RUNBOOKS=off skips).
    #[command(name = "deploy:hook")]
    DeployHook(DeployHookArgs),
    /// Platform operators of the /system console.
    #[command(subcommand, name = "platform-user")]
    PlatformUser(PlatformUserCommand),
    /// Customer users of the /admin plane.
    #[command(subcommand)]
    User(UserCommand),
}

impl Command {
    /// Whether the command runs until stopped (and logs at info by default).
    pub fn is_daemon(&self) -> bool {
        matches!(self, Command::Serve(_) | Command::Worker(_))
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TENANTATLAS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Serve /metrics only on this address (e.g. 127.0.0.1:9464), not on --bind.
    #[arg(long, env = "TENANTATLAS_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    /// In-process workers (0: none, run `worker` processes instead).
    #[arg(long, env = "TENANTATLAS_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Also seed sample tenants with legacy findings and the demo operator.
    #[arg(long)]
    pub demo: bool,
    /// Password of the `--demo` operator (generated and shown once when not given).
    #[arg(long, env = "TENANTATLAS_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Jobs run at once.
    #[arg(long, env = "TENANTATLAS_WORKER_CONCURRENCY", default_value_t = 2)]
    pub concurrency: usize,
}

#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// Create legacy demo data: tenants with findings needing the lifecycle backfill.
    Seed {
        /// Tenants to create (0 to 100,000).
        #[arg(long)]
        tenants: i64,
        /// Legacy findings each tenant gets (0 to 10,000,000).
        #[arg(long)]
        findings_per_tenant: i64,
        /// Tenants that get one finding in an unknown legacy state.
        #[arg(long, default_value_t = 0)]
        bad_tenants: i64,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ScopeArgs {
    /// One tenant, by external id.
    #[arg(long, value_name = "EXT_ID")]
    pub tenant: Option<String>,
    /// Every tenant of the workspace.
    #[arg(long)]
    pub all_tenants: bool,
}

#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Wait for the run to complete, working the queue in this process meanwhile.
    #[arg(long)]
    pub wait: bool,
    /// Jobs this process runs at once while waiting.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
}

impl WaitArgs {
    /// How many jobs to run at once while waiting; `None` without `--wait`.
    pub fn concurrency(&self) -> Option<usize> {
        self.wait.then_some(self.concurrency)
    }
}

#[derive(Args, Debug)]
pub struct BackfillLifecycleArgs {
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only count what would be done.
    #[arg(long)]
    pub preflight: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Why this run is started (recorded on the run).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Args, Debug)]
pub struct DeployHookArgs {
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Release being deployed, recorded as the initiator's release.
    #[arg(long, env = "TENANTATLAS_RELEASE")]
    pub release: Option<String>,
    /// `off` skips the hook.
    #[arg(
        long,
        env = "TENANTATLAS_DEPLOY_RUNBOOKS",
        default_value = "on",
        hide_env_values = true
    )]
    pub deploy_runbooks: String,
}

#[derive(Subcommand, Debug)]
pub enum RunbooksCommand {
    /// The registered runbooks.
    List,
    /// Count what a run would do; writes nothing.
    Preflight {
        /// The runbook's key (`runbooks list`).
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Start a run (or get the active run of the same runbook and scope).
    #[command(alias = "start")]
    Run {
        /// The runbook's key (`runbooks list`).
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Why this run is started (recorded on the run).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// At most this many of the run's tenants at once: a count (10) or a percentage (10%).
    #[arg(long, value_name = "N|P%")]
    pub max_concurrency: Option<String>,
    /// Stop starting tenants once more than this many failed: a count or a percentage.
    #[arg(long, value_name = "N|P%")]
    pub max_errors: Option<String>,
    /// Tenants that must have finished before a percentage --max-errors applies.
    #[arg(long, value_name = "N")]
    pub min_finished: Option<String>,
}

impl LimitArgs {
    /// The limits as typed: a flag left out keeps the run's value.
    pub fn text(&self) -> crate::domain::run_controls::LimitsText<'_> {
        crate::domain::run_controls::LimitsText {
            max_concurrency: self.max_concurrency.as_deref(),
            max_errors: self.max_errors.as_deref(),
            min_finished: self.min_finished.as_deref(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Recent runs, newest first.
    List {
        /// Only runs of this runbook (its key).
        #[arg(long)]
        runbook: Option<String>,
        /// queued, running or completed.
        #[arg(long)]
        status: Option<String>,
        /// pending, succeeded, partially_succeeded, failed or cancelled.
        #[arg(long)]
        outcome: Option<String>,
        /// At most this many runs.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// One run with its counts and failures.
    Show {
        /// The run's id.
        id: i64,
    },
    /// Cancel an active run: queued tenant jobs are dropped.
    Cancel {
        /// The run's id.
        id: i64,
    },
    /// Start a new run over the failed tenants of a completed run.
    RetryFailed {
        /// The completed run's id.
        id: i64,
        /// Why the retry is started (recorded on the new run).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Start a new run over the tenants of a completed run in the given states.
    Retry {
        /// The completed run's id.
        id: i64,
        /// Comma-separated: failed, not_started, cancelled (default: all three).
        #[arg(long)]
        states: Option<String>,
        /// Why the retry is started (recorded on the new run).
        #[arg(long)]
        reason: Option<String>,
        /// The new run's limits (default: the run's own; "" removes one).
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// A run's tenants with their results and the box score.
    Tenants {
        /// The run's id.
        id: i64,
        /// queued, running, succeeded, failed, not_started or cancelled.
        #[arg(long)]
        state: Option<String>,
        /// Part of the tenant's external id.
        #[arg(long = "search", value_name = "TEXT")]
        search: Option<String>,
        /// external_id, state, duration, items_updated, items_failed, attempts, started_at; -field descends.
        #[arg(long, allow_hyphen_values = true)]
        sort: Option<String>,
        /// Every matching tenant as CSV (instead of one page).
        #[arg(long)]
        csv: bool,
        /// Which page (past the last, the last).
        #[arg(long, default_value = "1")]
        page: String,
        /// Tenants a page (1 to 500).
        #[arg(long, default_value = "50")]
        per_page: String,
    },
    /// Pause a run: no new tenant starts; tenants in flight finish.
    Pause {
        /// The run's id.
        id: i64,
    },
    /// Resume a paused run.
    Resume {
        /// The run's id.
        id: i64,
    },
    /// Change a running or paused run's concurrency cap or error budget ("" removes one).
    Limits {
        /// The run's id.
        id: i64,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Where alerts go: Teams webhooks and email recipients.
    #[command(subcommand)]
    Destination(DestinationCommand),
    /// Which events alert which destinations, with cooldown and quiet hours.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// What was sent, suppressed, deferred or failed.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
}

#[derive(Subcommand, Debug)]
pub enum DestinationCommand {
    /// Add a destination: `--type teams --url URL` or `--type email --to ADDR…`.
    Add {
        /// teams or email.
        #[arg(long = "type", value_parser = ["teams", "email"])]
        kind: String,
        /// A name to tell it by.
        #[arg(long)]
        name: String,
        /// Teams incoming-webhook URL (kept secret: shown masked).
        #[arg(long)]
        url: Option<String>,
        /// Email recipients.
        #[arg(long, num_args = 1..)]
        to: Vec<String>,
    },
    /// Every destination, its URL masked.
    List,
    /// Remove a destination that no rule uses.
    Remove {
        /// The destination's id.
        id: i64,
    },
    /// Send a test message now.
    Test {
        /// The destination's id.
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum RuleCommand {
    /// Add a rule for an event (operation_run.failed).
    Add {
        /// A name to tell it by.
        #[arg(long)]
        name: String,
        /// The event: operation_run.failed, operation_run.recovered or auth.login_throttled.
        #[arg(long)]
        event: String,
        /// Destination ids.
        #[arg(long = "destination", num_args = 1.., required = true)]
        destinations: Vec<i64>,
        /// low, medium, high or critical (default low: every event).
        #[arg(long)]
        min_severity: Option<String>,
        /// The same rule and runbook+scope within this many seconds is suppressed.
        #[arg(long, allow_negative_numbers = true)]
        cooldown_seconds: Option<i64>,
        /// HH:MM-HH:MM; deliveries inside wait until it ends.
        #[arg(long)]
        quiet_hours: Option<String>,
        /// IANA time zone of the quiet hours, e.g. Europe/Berlin.
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Every rule with its destinations.
    List,
    /// Remove a rule.
    Remove {
        /// The rule's id.
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum DeliveriesCommand {
    /// Recent deliveries, newest first.
    List {
        /// At most this many deliveries.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum PlatformUserCommand {
    /// Create a platform operator for the /system console.
    Create(PlatformUserArgs),
}

#[derive(Args, Debug)]
pub struct PlatformUserArgs {
    /// The operator's sign-in email.
    #[arg(long)]
    pub email: String,
    /// The operator's name as the console shows it.
    #[arg(long)]
    pub name: String,
    /// Read the password from standard input (required; at least 12 characters).
    #[arg(long)]
    pub password_stdin: bool,
    /// A capability to grant (repeatable): platform.runbooks.view, platform.runbooks.run,
    /// platform.operations.view, platform.alerts.manage.
    #[arg(long = "capability", value_name = "C", num_args = 1..)]
    pub capabilities: Vec<String>,
    /// Grant every capability.
    #[arg(long, conflicts_with = "capabilities")]
    pub all_capabilities: bool,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a customer user of a workspace for the /admin plane.
    Create(UserArgs),
}

#[derive(Args, Debug)]
pub struct UserArgs {
    /// The user's sign-in email.
    #[arg(long)]
    pub email: String,
    /// The user's name as the customer plane shows it.
    #[arg(long)]
    pub name: String,
    /// The workspace's slug, e.g. default.
    #[arg(long)]
    pub workspace: String,
    /// Read the password from standard input (required; at least 12 characters).
    #[arg(long)]
    pub password_stdin: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flag and argument of every command has a description, and a
    /// command's `--help` lists its own options, not the settings.
    #[test]
    fn every_flag_says_what_it_is_and_help_stays_short() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if a.get_help().is_none() && !matches!(id, "help" | "version") {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&command(), "tenantatlas", &mut missing);
        assert!(missing.is_empty(), "without a description: {missing:?}");

        let mut show = command();
        show.build();
        let help = show
            .find_subcommand_mut("runs")
            .and_then(|runs| runs.find_subcommand_mut("show"))
            .map(|c| c.render_long_help().to_string())
            .unwrap_or_default();
        assert!(help.contains("--local-time"), "{help}");
        assert!(help.contains("--help-config"), "{help}");
        assert!(!help.contains("--database-url"), "{help}");
        let settings = settings_help().render_long_help().to_string();
        assert!(settings.contains("--database-url") && settings.contains("DATABASE_URL"));
    }

    /// The README's command list names every command there is, and only those.
    #[test]
    fn the_readme_lists_every_command() {
        fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            if cmd.get_subcommands().next().is_none() {
                out.push(path.trim().to_owned());
            }
            for sub in cmd.get_subcommands() {
                leaves(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut commands = Vec::new();
        leaves(&command(), "", &mut commands);
        let readme = include_str!("../../../README.md");
        let listed: Vec<&str> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("tenantatlas "))
            .collect();
        let missing: Vec<&String> = commands
            .iter()
            .filter(|c| {
                !listed.iter().any(|l| {
                    l.starts_with(c.as_str())
                        || c.rsplit_once(' ').is_some_and(|(group, leaf)| {
                            l.starts_with(group) && l.contains(&format!("{leaf}|"))
                                || l.starts_with(group) && l.contains(&format!("|{leaf}"))
                        })
                })
            })
            .collect();
        assert!(missing.is_empty(), "not in the README: {missing:?}");
        let cli = command();
        for line in listed {
            let first = line.split_whitespace().next().unwrap_or_default();
            assert!(
                cli.find_subcommand(first).is_some(),
                "the README lists an unknown command: {line}"
            );
        }
    }
}
