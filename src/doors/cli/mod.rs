//! The `tenantatlas` command line: parses, calls the runbook service, presents.

mod accounts;
mod present;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;

use crate::alerts::{AlertSettings, Channel, RuleRequest};
use crate::app::{App, Settings};
use crate::clock;
use crate::domain::{DEFAULT_WORKSPACE_SLUG, Reason};
use crate::doors::{deploy_hook, web};
use crate::error::Error;
use crate::runbooks::Registry;
use crate::runs::{Initiator, Outcome, Run, RunFilter, RunStatus};
use crate::service::{Actor, ScopeRequest};
use crate::storage::{self, ConnectError, Db};

#[derive(Parser, Debug)]
#[command(
    name = "tenantatlas",
    version,
    about = "TenantAtlas Ops: platform runbooks over one tenant or all tenants",
    after_help = "Exit codes: 0 success (a waited run succeeded), 1 any other outcome or a failure, 2 bad usage or bad input."
)]
pub struct Cli {
    /// Database: sqlite://FILE (default, in the current directory) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", global = true, default_value = storage::DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// Machine output (JSON) instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    tuning: Tuning,
    #[command(subcommand)]
    command: Command,
}

/// Queue and run tunables, shared by every command.
#[derive(Args, Debug)]
struct Tuning {
    /// Seconds a job's lease lasts; renewed while it runs.
    #[arg(
        long,
        env = "TENANTATLAS_JOB_LEASE_SECONDS",
        default_value_t = 30,
        global = true,
        hide = true
    )]
    job_lease_seconds: u64,
    /// Attempts of a failing job before it is recorded dead.
    #[arg(
        long,
        env = "TENANTATLAS_JOB_MAX_ATTEMPTS",
        default_value_t = 5,
        global = true,
        hide = true
    )]
    job_max_attempts: u32,
    /// Milliseconds before the first retry of a failed job (doubles per attempt).
    #[arg(
        long,
        env = "TENANTATLAS_JOB_BACKOFF_MS",
        default_value_t = 2000,
        global = true,
        hide = true
    )]
    job_backoff_ms: u64,
    /// Items per transaction in a runbook.
    #[arg(
        long,
        env = "TENANTATLAS_CHUNK_SIZE",
        default_value_t = 1000,
        global = true,
        hide = true
    )]
    chunk_size: u32,
    /// Public base URL of the console, for links in alerts.
    #[arg(
        long,
        env = "TENANTATLAS_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true,
        hide = true
    )]
    public_url: String,
    /// SMTP server for email alerts, e.g. smtp://127.0.0.1:25 or smtps://user:pass@host.
    #[arg(
        long,
        env = "SMTP_URL",
        global = true,
        hide = true,
        hide_env_values = true
    )]
    smtp_url: Option<String>,
    /// Sender of email alerts.
    #[arg(
        long,
        env = "TENANTATLAS_MAIL_FROM",
        default_value = "TenantAtlas Ops <ops@tenantatlas.localhost>",
        global = true,
        hide = true
    )]
    mail_from: String,
    /// Seconds one alert send may take.
    #[arg(
        long,
        env = "TENANTATLAS_ALERT_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true,
        hide = true
    )]
    alert_timeout_seconds: u64,
    /// Database connections of this process.
    #[arg(
        long,
        env = "TENANTATLAS_DB_CONNECTIONS",
        default_value_t = 10,
        global = true,
        hide = true
    )]
    db_connections: u32,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web service and in-process workers; migrates and seeds `default`/`platform` first.
    Serve(ServeArgs),
    /// Run a worker that works the queue (several may share one PostgreSQL).
    Worker {
        /// Jobs run at once.
        #[arg(long, env = "TENANTATLAS_WORKER_CONCURRENCY", default_value_t = 2)]
        concurrency: usize,
    },
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
    BackfillLifecycle {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Only count what would be done.
        #[arg(long)]
        preflight: bool,
        #[command(flatten)]
        wait: WaitArgs,
        /// Why this run is started (recorded on the run).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Alert destinations, rules and deliveries.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Start the deploy-time runbooks where there is work (TENANTATLAS_DEPLOY_RUNBOOKS=off skips).
    #[command(name = "deploy:hook")]
    DeployHook {
        #[command(flatten)]
        wait: WaitArgs,
        /// Release being deployed, recorded as the initiator's release.
        #[arg(long, env = "TENANTATLAS_RELEASE")]
        release: Option<String>,
        /// `off` skips the hook.
        #[arg(
            long,
            env = "TENANTATLAS_DEPLOY_RUNBOOKS",
            default_value = "on",
            hide_env_values = true
        )]
        deploy_runbooks: String,
    },
    /// Platform operators of the /system console.
    #[command(subcommand, name = "platform-user")]
    PlatformUser(accounts::PlatformUserCommand),
    /// Customer users of the /admin plane.
    #[command(subcommand)]
    User(accounts::UserCommand),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TENANTATLAS_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// In-process workers (0: none, run `worker` processes instead).
    #[arg(long, env = "TENANTATLAS_WORKERS", default_value_t = 2)]
    workers: usize,
    /// Also seed sample tenants with legacy findings.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand, Debug)]
enum DemoCommand {
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
struct ScopeArgs {
    /// One tenant, by external id.
    #[arg(long, value_name = "EXT_ID")]
    tenant: Option<String>,
    /// Every tenant of the workspace.
    #[arg(long)]
    all_tenants: bool,
}

#[derive(Args, Debug, Clone)]
struct WaitArgs {
    /// Wait for the run to complete, working the queue in this process meanwhile.
    #[arg(long)]
    wait: bool,
    /// Jobs this process runs at once while waiting.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
}

#[derive(Subcommand, Debug)]
enum RunbooksCommand {
    /// The registered runbooks.
    List,
    /// Count what a run would do; writes nothing.
    Preflight {
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Start a run (or get the active run of the same runbook and scope).
    Run {
        key: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Why this run is started (recorded on the run).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
}

#[derive(Subcommand, Debug)]
enum AlertsCommand {
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
enum DestinationCommand {
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
enum RuleCommand {
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
enum DeliveriesCommand {
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
enum RunsCommand {
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
}

/// A command's failure, with the exit code it earns.
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if e.is_caller_error() {
            Failure {
                code: 2,
                message: e.to_string(),
            }
        } else {
            tracing::error!(error = %e.detail(), "command failed");
            Failure {
                code: 1,
                message: e.detail(),
            }
        }
    }
}

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        let code = if matches!(e, ConnectError::BadUrl(_)) {
            2
        } else {
            1
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Error::from(e).into()
    }
}

fn bad_input(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let is_daemon = matches!(cli.command, Command::Serve(_) | Command::Worker { .. });
    crate::telemetry::init(if is_daemon { "info" } else { "warn" });
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
        Err(f) => {
            eprintln!(
                "tenantatlas: {}",
                f.message.lines().next().unwrap_or_default()
            );
            ExitCode::from(f.code)
        }
    }
}

impl Tuning {
    fn settings(&self) -> Settings {
        Settings {
            job_lease_ms: (self.job_lease_seconds.max(1) * 1000) as i64,
            max_attempts: self.job_max_attempts.max(1) as i64,
            backoff_base_ms: self.job_backoff_ms as i64,
            chunk_size: self.chunk_size.max(1) as i64,
            ..Settings::default()
        }
    }
}

impl Tuning {
    fn alert_settings(&self) -> AlertSettings {
        AlertSettings {
            public_url: self.public_url.trim_end_matches('/').to_owned(),
            smtp_url: self.smtp_url.clone().filter(|u| !u.is_empty()),
            mail_from: self.mail_from.clone(),
            timeout_ms: self.alert_timeout_seconds.max(1) * 1000,
        }
    }
}

fn cli_actor() -> Actor {
    Actor::trusted(Initiator::Cli {
        os_user: std::env::var("USER").ok(),
    })
}

/// Checks what needs no database before opening it, so bad input writes nothing.
fn precheck(
    key: Option<&str>,
    scope: Option<&ScopeArgs>,
    reason: Option<&str>,
) -> Result<Option<ScopeRequest>, Failure> {
    if let Some(key) = key
        && Registry::standard().get(key.trim()).is_none()
    {
        return Err(bad_input(format!(
            "unknown runbook {:?} (known: {})",
            key.trim(),
            Registry::standard().keys().join(", ")
        )));
    }
    Reason::parse(reason, false).map_err(bad_input)?;
    scope
        .map(|s| ScopeRequest::from_parts(s.all_tenants, s.tenant.as_deref()))
        .transpose()
        .map_err(Failure::from)
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let json = cli.json;
    // Accounts are checked (password from stdin included) before the database opens.
    let checked_account = match &cli.command {
        Command::PlatformUser(c) => Some(accounts::precheck_platform_user(c)?),
        Command::User(c) => Some(accounts::precheck_user(c)?),
        _ => None,
    };
    // Checks that need no database come first.
    let scope = match &cli.command {
        Command::Runbooks(RunbooksCommand::Preflight { key, scope }) => {
            precheck(Some(key), Some(scope), None)?
        }
        Command::Runbooks(RunbooksCommand::Run {
            key, scope, reason, ..
        }) => precheck(Some(key), Some(scope), reason.as_deref())?,
        Command::BackfillLifecycle { scope, reason, .. } => {
            precheck(None, Some(scope), reason.as_deref())?
        }
        Command::Runs(RunsCommand::RetryFailed { reason, .. }) => {
            precheck(None, None, reason.as_deref())?
        }
        Command::Runs(RunsCommand::List {
            status, outcome, ..
        }) => {
            if let Some(s) = status
                && RunStatus::parse(s).is_none()
            {
                return Err(bad_input(format!(
                    "unknown status {s:?} (queued, running, completed)"
                )));
            }
            if let Some(o) = outcome
                && Outcome::parse(o).is_none()
            {
                return Err(bad_input(format!(
                    "unknown outcome {o:?} (pending, succeeded, partially_succeeded, failed, cancelled)"
                )));
            }
            None
        }
        Command::Demo(DemoCommand::Seed {
            tenants,
            findings_per_tenant,
            bad_tenants,
        }) => {
            if !(0..=100_000).contains(tenants)
                || !(0..=10_000_000).contains(findings_per_tenant)
                || *bad_tenants < 0
            {
                return Err(bad_input(
                    "--tenants must be 0..=100000, --findings-per-tenant 0..=10000000, --bad-tenants at least 0",
                ));
            }
            if bad_tenants > tenants {
                return Err(bad_input("--bad-tenants cannot exceed --tenants"));
            }
            None
        }
        Command::DeployHook {
            deploy_runbooks, ..
        } if deploy_runbooks.eq_ignore_ascii_case("off") => {
            present::line(
                json,
                &serde_json::json!({"skipped": true, "actions": []}),
                "deploy runbooks are off (TENANTATLAS_DEPLOY_RUNBOOKS=off)",
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => None,
    };

    let settings = cli.tuning.settings();
    let alert_settings = cli.tuning.alert_settings();
    let db = Db::connect(&cli.database_url, cli.tuning.db_connections).await?;
    let app = App::with_alerts(db.clone(), clock::system(), settings, alert_settings);
    storage::directory::bootstrap(&app.db, app.clock.now()).await?;
    if let Some(checked) = checked_account {
        let result = accounts::create(&app, checked, json).await;
        db.close().await;
        return result;
    }
    let result = dispatch(&app, cli.command, scope, json).await;
    db.close().await;
    result
}

async fn dispatch(
    app: &App,
    command: Command,
    scope: Option<ScopeRequest>,
    json: bool,
) -> Result<ExitCode, Failure> {
    let service = app.runbooks();
    let actor = cli_actor();
    let scope = || {
        scope
            .clone()
            .ok_or_else(|| bad_input("a scope is required"))
    };
    match command {
        Command::Serve(args) => {
            web::serve(app.clone(), &args.bind, args.workers, args.demo)
                .await
                .map_err(|e| Failure {
                    code: 1,
                    message: format!("{e:#}"),
                })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker { concurrency } => {
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(async move {
                crate::telemetry::shutdown_signal().await;
                let _ = stop.send(true);
            });
            tracing::info!(concurrency, "worker started");
            app.worker().run(concurrency, stopped).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            present::line(
                json,
                &serde_json::json!({"migrated": true}),
                "database migrated; workspace default and tenant platform present",
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(DemoCommand::Seed {
            tenants,
            findings_per_tenant,
            bad_tenants,
        }) => {
            let ws = service.workspace().await?;
            let report = storage::seed::seed(
                &app.db,
                ws.id,
                tenants,
                findings_per_tenant,
                bad_tenants,
                app.clock.now(),
            )
            .await?;
            present::line(
                json,
                &report,
                &format!(
                    "seeded {} tenants, {} findings, {} observations ({} bad tenants) in workspace {DEFAULT_WORKSPACE_SLUG}",
                    report.tenants, report.findings, report.observations, report.bad_tenants
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Runbooks(RunbooksCommand::List) => {
            let list = service.list(&actor)?;
            if json {
                present::json(&list);
            } else {
                for r in &list {
                    println!(
                        "{:<32} {}{}",
                        r.key,
                        r.title,
                        if r.runs_on_deploy { "  (deploy)" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Runbooks(RunbooksCommand::Preflight { key, .. }) => {
            let preflight = service.preflight(&actor, &key, &scope()?).await?;
            present::preflight(json, &preflight);
            Ok(ExitCode::SUCCESS)
        }
        Command::Runbooks(RunbooksCommand::Run {
            key, reason, wait, ..
        }) => {
            let ensured = service
                .start(&actor, &key, &scope()?, reason.as_deref())
                .await?;
            finish_start(app, ensured.run, ensured.created, &wait, json).await
        }
        Command::BackfillLifecycle {
            preflight,
            wait,
            reason,
            ..
        } => {
            let key = crate::runbooks::findings_lifecycle::KEY.0;
            if preflight {
                let p = service.preflight(&actor, key, &scope()?).await?;
                present::preflight(json, &p);
                return Ok(ExitCode::SUCCESS);
            }
            let ensured = service
                .start(&actor, key, &scope()?, reason.as_deref())
                .await?;
            finish_start(app, ensured.run, ensured.created, &wait, json).await
        }
        Command::Runs(RunsCommand::List {
            runbook,
            status,
            outcome,
            limit,
        }) => {
            let filter = RunFilter {
                runbook,
                status: status.as_deref().and_then(RunStatus::parse),
                outcome: outcome.as_deref().and_then(Outcome::parse),
                limit: limit.clamp(1, 1000),
                ..RunFilter::default()
            };
            let runs = service.runs(&actor, &filter).await?;
            present::runs(json, &runs);
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs(RunsCommand::Show { id }) => {
            let run = service.run(&actor, id).await?;
            present::run(json, &run);
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs(RunsCommand::Cancel { id }) => {
            let run = service.cancel(&actor, id).await?;
            present::run(json, &run);
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs(RunsCommand::RetryFailed { id, reason, wait }) => {
            let ensured = service.retry_failed(&actor, id, reason.as_deref()).await?;
            finish_start(app, ensured.run, ensured.created, &wait, json).await
        }
        Command::Alerts(command) => alerts_command(app, command, json).await,
        Command::DeployHook { wait, release, .. } => {
            deploy_hook::run(app, release, wait.wait, wait.concurrency, json).await
        }
        Command::PlatformUser(_) | Command::User(_) => {
            Err(bad_input("account commands are handled before dispatch"))
        }
    }
}

async fn alerts_command(
    app: &App,
    command: AlertsCommand,
    json: bool,
) -> Result<ExitCode, Failure> {
    let service = app.alert_service();
    let actor = cli_actor();
    match command {
        AlertsCommand::Destination(DestinationCommand::Add {
            kind,
            name,
            url,
            to,
        }) => {
            let channel =
                Channel::from_parts(Some(&kind), url.as_deref(), &to).map_err(bad_input)?;
            let d = service.add_destination(&actor, &name, channel).await?;
            present::line(
                json,
                &d,
                &format!(
                    "destination {} added: {} {} {}",
                    d.id, d.kind, d.name, d.target
                ),
            );
        }
        AlertsCommand::Destination(DestinationCommand::List) => {
            let list = service.destinations(&actor).await?;
            if json {
                present::json(&list);
            }
            for d in list.iter().filter(|_| !json) {
                println!("{:>4}  {:<6} {:<24} {}", d.id, d.kind, d.name, d.target);
            }
        }
        AlertsCommand::Destination(DestinationCommand::Remove { id }) => {
            service.remove_destination(&actor, id).await?;
            present::line(
                json,
                &serde_json::json!({"removed": id}),
                &format!("destination {id} removed"),
            );
        }
        AlertsCommand::Destination(DestinationCommand::Test { id }) => {
            let d = service.test_destination(&actor, id).await?;
            let text = match &d.last_error {
                Some(e) => format!("test message to destination {id} failed: {e}"),
                None => format!("test message sent to destination {id}"),
            };
            present::line(json, &d, &text);
            if d.status != "sent" {
                return Ok(ExitCode::from(1));
            }
        }
        AlertsCommand::Rule(RuleCommand::Add {
            name,
            event,
            destinations,
            min_severity,
            cooldown_seconds,
            quiet_hours,
            timezone,
        }) => {
            let request = RuleRequest {
                name,
                event,
                destination_ids: destinations,
                min_severity,
                cooldown_seconds,
                quiet_hours,
                timezone,
            };
            let r = service.add_rule(&actor, request).await?;
            present::line(
                json,
                &r,
                &format!(
                    "rule {} added: {} → destinations {:?}",
                    r.id, r.event, r.destination_ids
                ),
            );
        }
        AlertsCommand::Rule(RuleCommand::List) => {
            let list = service.rules(&actor).await?;
            if json {
                present::json(&list);
            }
            for r in list.iter().filter(|_| !json) {
                println!(
                    "{:>4}  {:<24} {:<22} ≥{:<8} cooldown {}s quiet {} {} → {:?}",
                    r.id,
                    r.name,
                    r.event,
                    r.min_severity,
                    r.cooldown_seconds,
                    r.quiet_hours.as_deref().unwrap_or("-"),
                    r.timezone.as_deref().unwrap_or(""),
                    r.destination_ids
                );
            }
        }
        AlertsCommand::Rule(RuleCommand::Remove { id }) => {
            service.remove_rule(&actor, id).await?;
            present::line(
                json,
                &serde_json::json!({"removed": id}),
                &format!("rule {id} removed"),
            );
        }
        AlertsCommand::Deliveries(DeliveriesCommand::List { limit }) => {
            let list = service.deliveries(&actor, limit).await?;
            if json {
                present::json(&list);
            }
            for d in list.iter().filter(|_| !json) {
                println!(
                    "{:>5}  {:<22} {:<10} rule {:<4} dest {:<4} attempts {} {}",
                    d.id,
                    d.event,
                    d.status,
                    d.rule_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                    d.destination_id
                        .map(|i| i.to_string())
                        .unwrap_or_else(|| "-".into()),
                    d.attempts,
                    d.last_error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a started run, or waits for it and prints how it ended.
async fn finish_start(
    app: &App,
    run: Run,
    created: bool,
    wait: &WaitArgs,
    json: bool,
) -> Result<ExitCode, Failure> {
    if !created && !json {
        eprintln!(
            "run {} of the same runbook and scope is already active; showing it",
            run.id
        );
    }
    if !wait.wait {
        present::run(json, &run);
        return Ok(ExitCode::SUCCESS);
    }
    let runs = wait_for(app, &[run.id], wait.concurrency, !json).await?;
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
pub(crate) async fn wait_for(
    app: &App,
    run_ids: &[i64],
    concurrency: usize,
    show_progress: bool,
) -> Result<Vec<Run>, Failure> {
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(app.worker().run(concurrency, stopped));
    let bar = (show_progress && std::io::stderr().is_terminal()).then(present::progress_bar);
    let runs = app.runs();
    let mut done = Vec::new();
    for id in run_ids {
        loop {
            let run = runs.get(*id).await?;
            if let Some(bar) = &bar {
                present::update_progress(bar, &run);
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

pub(crate) use present::line as present_line;
pub(crate) use present::run as present_run;
