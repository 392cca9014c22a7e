//! The command line's grammar: every command, flag and environment variable
//! `tenantatlas` takes, as clap declares and `--help` shows them.

use clap::{Args, Parser, Subcommand};

use super::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "tenantatlas",
    version,
    about = "TenantAtlas Ops: platform runbooks over one tenant or all tenants",
    after_help = "Exit codes: 0 success (a waited run succeeded), 1 any other outcome or a failure, 2 bad usage or bad input."
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
        #[arg(long)]
        tenants: i64,
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
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Start a run (or get the active run of the same runbook and scope).
    #[command(alias = "start")]
    Run {
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

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Recent runs, newest first.
    List {
        #[arg(long)]
        runbook: Option<String>,
        /// queued, running or completed.
        #[arg(long)]
        status: Option<String>,
        /// pending, succeeded, partially_succeeded, failed or cancelled.
        #[arg(long)]
        outcome: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// One run with its counts and failures.
    Show { id: i64 },
    /// Cancel an active run: queued tenant jobs are dropped.
    Cancel { id: i64 },
    /// Start a new run over the failed tenants of a completed run.
    RetryFailed {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Start a new run over the tenants of a completed run in the given states.
    Retry {
        id: i64,
        /// Comma-separated: failed, not_started, cancelled (default: all three).
        #[arg(long)]
        states: Option<String>,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// A run's tenants with their results and the box score.
    Tenants {
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
        #[arg(long, default_value = "1")]
        page: String,
        #[arg(long, default_value = "50")]
        per_page: String,
    },
    /// Pause a run: no new tenant starts; tenants in flight finish.
    Pause { id: i64 },
    /// Resume a paused run.
    Resume { id: i64 },
    /// Change a running or paused run's concurrency cap or error budget ("" removes one).
    Limits {
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
        #[arg(long = "type", value_parser = ["teams", "email"])]
        kind: String,
        #[arg(long)]
        name: String,
        /// Teams incoming-webhook URL (kept secret: shown masked).
        #[arg(long)]
        url: Option<String>,
        /// Email recipients.
        #[arg(long, num_args = 1..)]
        to: Vec<String>,
    },
    List,
    Remove {
        id: i64,
    },
    /// Send a test message now.
    Test {
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum RuleCommand {
    /// Add a rule for an event (operation_run.failed).
    Add {
        #[arg(long)]
        name: String,
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
    List,
    Remove {
        id: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum DeliveriesCommand {
    List {
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
    #[arg(long)]
    pub email: String,
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
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// The workspace's slug, e.g. default.
    #[arg(long)]
    pub workspace: String,
    /// Read the password from standard input (required; at least 12 characters).
    #[arg(long)]
    pub password_stdin: bool,
}
