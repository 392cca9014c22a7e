//! The one configuration of a `tenantatlas` process: every setting is a flag
//! with an environment variable, read by clap once, listed by `--help`, and
//! handed from here to the services and the web door.

use std::net::IpAddr;
use std::time::Duration;

use clap::Args;

use crate::accounts::{HashingSlots, SecretKey, SignInLimits};
use crate::alerts::{AlertSettings, EgressPolicy};
use crate::app::{App, DEFAULT_DATABASE_URL, Settings};
use crate::clock;
use crate::domain::{Actor, TextKind};
use crate::doors::shell::Failure;
use crate::doors::web::WebConfig;
use crate::runs::Initiator;
use crate::telemetry::MetricsToken;

/// The console's public origin when `TENANTATLAS_PUBLIC_URL` is not set.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Args, Debug)]
#[command(next_help_heading = "Configuration")]
pub struct Config {
    /// Database: sqlite://FILE (default, in the current directory) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// Database connections of this process.
    #[arg(long, env = "TENANTATLAS_DB_CONNECTIONS", default_value_t = 10)]
    pub db_connections: u32,
    /// Seconds a job's lease lasts; renewed while it runs.
    #[arg(long, env = "TENANTATLAS_JOB_LEASE_SECONDS", default_value_t = 30)]
    pub job_lease_seconds: u64,
    /// Attempts of a failing job before it is discarded.
    #[arg(long, env = "TENANTATLAS_JOB_MAX_ATTEMPTS", default_value_t = 5)]
    pub job_max_attempts: u32,
    /// Milliseconds before the first retry of a failed job (doubles per attempt, at most 5 minutes).
    #[arg(long, env = "TENANTATLAS_JOB_BACKOFF_MS", default_value_t = 2000)]
    pub job_backoff_ms: u64,
    /// Items per transaction in a runbook.
    #[arg(long, env = "TENANTATLAS_CHUNK_SIZE", default_value_t = 1000)]
    pub chunk_size: u32,
    /// Public origin of the console (default http://127.0.0.1:8080): the Origin check,
    /// Secure cookies when https, links in alerts.
    #[arg(long, env = "TENANTATLAS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `1` (or true, yes, on): Secure cookies behind a TLS-terminating proxy.
    #[arg(
        long,
        env = "TENANTATLAS_SECURE_COOKIES",
        value_name = "ON",
        action = clap::ArgAction::Set,
        default_value = "off",
        value_parser = switch
    )]
    pub secure_cookies: bool,
    /// Comma-separated proxy ips whose X-Forwarded-For names the client.
    #[arg(long, env = "TENANTATLAS_TRUSTED_PROXIES", value_name = "IPS")]
    pub trusted_proxies: Option<String>,
    /// Bearer token scrapers must send for /metrics (at least 16 visible characters;
    /// prefer the environment to the flag, which `ps` shows). Unset: /metrics answers
    /// anyone who reaches it; set this or `serve --metrics-bind`.
    #[arg(
        long,
        env = "TENANTATLAS_METRICS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub metrics_token: Option<String>,
    /// Key that signs the CSRF tokens of sign-in forms (at least 32 characters);
    /// by default one is generated once and kept in the database.
    #[arg(
        long,
        env = "TENANTATLAS_SECRET_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = SecretKey::parse
    )]
    pub secret_key: Option<SecretKey>,
    /// Password verifications running at once in this process (default: one per core).
    #[arg(long, env = "TENANTATLAS_PASSWORD_HASH_SLOTS", value_name = "N")]
    pub password_hash_slots: Option<usize>,
    /// Milliseconds a sign-in waits for a password slot before it is answered 503.
    #[arg(
        long,
        env = "TENANTATLAS_PASSWORD_HASH_WAIT_MS",
        default_value_t = 2000
    )]
    pub password_hash_wait_ms: u64,
    /// Sign-in attempts a minute from one client address on one plane, whatever the emails.
    #[arg(long, env = "TENANTATLAS_SIGNIN_IP_LIMIT", default_value_t = 30)]
    pub signin_ip_limit: u32,
    /// SMTP server for email alerts, e.g. smtp://127.0.0.1:25 or smtps://user:pass@host.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of email alerts.
    #[arg(
        long,
        env = "TENANTATLAS_MAIL_FROM",
        default_value = "TenantAtlas Ops <ops@tenantatlas.localhost>"
    )]
    pub mail_from: String,
    /// Seconds one webhook request or SMTP session may take.
    #[arg(long, env = "TENANTATLAS_ALERT_TIMEOUT_SECONDS", default_value_t = 10)]
    pub alert_timeout_seconds: u64,
    /// Comma-separated hosts (names or ips) webhooks may reach although they
    /// are internal or plain http; by default only https to public addresses.
    #[arg(long, env = "TENANTATLAS_WEBHOOK_ALLOWED_HOSTS", value_name = "HOSTS")]
    pub webhook_allowed_hosts: Option<String>,
    /// `json` for JSON logs on stderr (default: human).
    #[arg(long, env = "LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Log filter (default: info for serve and worker, warn otherwise).
    #[arg(long, env = "RUST_LOG", value_name = "FILTER")]
    pub log_filter: Option<String>,
    /// Milliseconds this process's machine clock is moved ahead (behind when
    /// negative): tests run a worker on a machine whose clock is off. Queue
    /// times follow the database's clock whatever this says.
    #[arg(
        long,
        env = "TENANTATLAS_CLOCK_SKEW_MS",
        default_value_t = 0,
        hide = true,
        allow_negative_numbers = true
    )]
    pub clock_skew_ms: i64,
}

/// `TENANTATLAS_TRUSTED_PROXIES`: comma-separated ip addresses.
fn parse_proxies(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map_err(|_| format!("TENANTATLAS_TRUSTED_PROXIES: {s:?} is not an ip address"))
        })
        .collect()
}

/// `1`, `true`, `yes` or `on` switch a setting on; anything else leaves it off.
fn switch(value: &str) -> Result<bool, String> {
    Ok(matches!(value.trim(), "1" | "true" | "yes" | "on"))
}

impl Config {
    /// Whether logs are JSON lines.
    pub fn json_logs(&self) -> bool {
        self.log_format
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("json"))
    }

    pub fn settings(&self) -> Settings {
        Settings {
            job_lease_ms: (self.job_lease_seconds.max(1) * 1000) as i64,
            max_attempts: self.job_max_attempts.max(1) as i64,
            backoff_base_ms: self.job_backoff_ms as i64,
            chunk_size: self.chunk_size.max(1) as i64,
            ..Settings::default()
        }
    }

    pub fn alert_settings(&self) -> AlertSettings {
        AlertSettings {
            public_url: self
                .public_url
                .as_deref()
                .unwrap_or(DEFAULT_PUBLIC_URL)
                .trim_end_matches('/')
                .to_owned(),
            smtp_url: self.smtp_url.clone().filter(|u| !u.is_empty()),
            mail_from: self.mail_from.clone(),
            timeout_ms: self.alert_timeout_seconds.max(1) * 1000,
            webhook_policy: EgressPolicy::allowing(
                self.webhook_allowed_hosts.as_deref().unwrap_or_default(),
            ),
        }
    }

    /// What sign-in may cost this process.
    pub fn sign_in_limits(&self) -> SignInLimits {
        let wait = Duration::from_millis(self.password_hash_wait_ms);
        SignInLimits {
            hashing: match self.password_hash_slots {
                Some(n) => HashingSlots::new(n, wait),
                None => HashingSlots::per_core(wait),
            },
            per_ip_per_minute: i64::from(self.signin_ip_limit.max(1)),
            ..SignInLimits::default()
        }
    }

    /// The web door's settings; a trusted proxy that is not an ip, or a
    /// metrics token too short, is refused. A blank token is none.
    pub fn web_config(&self) -> Result<WebConfig, String> {
        let trusted_proxies = parse_proxies(self.trusted_proxies.as_deref().unwrap_or_default())?;
        let metrics_token = self
            .metrics_token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(MetricsToken::parse)
            .transpose()?;
        Ok(WebConfig {
            public_url: self
                .public_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(|u| u.trim_end_matches('/').to_owned()),
            secure_cookies: self.secure_cookies,
            trusted_proxies,
            metrics_token,
            metrics_elsewhere: false,
            secret_key: self.secret_key.clone(),
        })
    }

    /// Opens the database, applies its migrations and makes sure workspace
    /// `default` and tenant `platform` exist.
    pub async fn open(&self) -> Result<App, Failure> {
        let app = App::open_on(
            &self.database_url,
            self.db_connections,
            self.settings(),
            self.alert_settings(),
            clock::skewed(clock::system(), self.clock_skew_ms),
        )
        .await?
        .with_sign_in_limits(self.sign_in_limits());
        let ready = async {
            app.migrate().await?;
            app.bootstrap().await?;
            Ok::<_, Failure>(())
        };
        if let Err(failure) = ready.await {
            app.close().await;
            return Err(failure);
        }
        Ok(app)
    }

    /// Opens the database, lets `act` use the service, and closes it again.
    pub async fn with_app<T>(
        &self,
        act: impl AsyncFnOnce(&App) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let app = self.open().await?;
        let result = act(&app).await;
        app.close().await;
        result
    }
}

/// Who every command acts as: the CLI, named by the operating-system user
/// and the machine, with every capability (whoever runs it holds the
/// database credentials). A `USER` or host name that is no name by the rule
/// of names is left out, not stored.
pub fn actor() -> Actor {
    let os_user = std::env::var("USER")
        .ok()
        .filter(|u| TextKind::NAME.require("USER", u).is_ok());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| TextKind::NAME.require("host", h).is_ok());
    Actor::trusted(Initiator::Cli { os_user, host })
}
