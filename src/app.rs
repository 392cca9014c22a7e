//! The assembly: database, clock, settings and runbook registry, and the
//! services built from them. Every door builds one `App` and calls the
//! services hanging off it; no service imports `App`.

pub mod db_clock;

use std::sync::Arc;

use crate::accounts::{AccountService, SignInLimits, ThrottleSubscriber};
use crate::alerts::{
    AlertDispatcher, AlertService, AlertSettings, DeliveryJobHandler, InitiatorNotifier,
    LockoutAlerts, Sender,
};
use crate::clock::SharedClock;
use crate::console::{
    AuditLogService, CustomerService, DemoService, HealthService, NotificationService,
    RunListService,
};
use crate::queue::{Handlers, QueueSettings, Worker};
use crate::runbooks::{Registry, RunbookService, TenantJobHandler};
use crate::runs::{OperationRunService, RunCompletionSubscriber};
use crate::storage::Db;

/// Tunables of runs and the queue (environment variables in the CLI).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `TENANTATLAS_JOB_LEASE_SECONDS`: a job's lease, renewed while it runs.
    pub job_lease_ms: i64,
    /// Attempts of a job before it is discarded.
    pub max_attempts: i64,
    /// First retry delay; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    /// How long a job whose tenant is locked waits before it is tried again.
    pub locked_retry_ms: i64,
    /// Items per transaction in a runbook.
    pub chunk_size: i64,
    /// How often an idle worker looks for work (a cheap read) when nothing
    /// told it of any; on PostgreSQL, whose enqueues wake workers at once, at
    /// most every [`PG_POLL_MS`].
    pub poll_interval_ms: u64,
}

/// The idle look's interval on PostgreSQL: only delayed jobs and expired
/// leases rely on it there.
pub const PG_POLL_MS: u64 = 500;

impl Settings {
    pub fn queue(&self) -> QueueSettings {
        QueueSettings {
            job_lease_ms: self.job_lease_ms,
            max_attempts: self.max_attempts,
            backoff_base_ms: self.backoff_base_ms,
            backoff_max_ms: self.backoff_max_ms,
            poll_interval_ms: self.poll_interval_ms,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            job_lease_ms: 30_000,
            max_attempts: 5,
            backoff_base_ms: 2_000,
            backoff_max_ms: 300_000,
            locked_retry_ms: 5_000,
            chunk_size: 1_000,
            poll_interval_ms: 50,
        }
    }
}

#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub registry: Arc<Registry>,
    pub alerts: Arc<AlertSettings>,
    /// One HTTP client (connection pool) for every webhook.
    pub http: reqwest::Client,
    /// What sign-in may cost this process (hashing slots shared by clones).
    pub sign_in: SignInLimits,
}

impl App {
    pub fn new(db: Db, clock: SharedClock, settings: Settings) -> App {
        App::with_alerts(db, clock, settings, AlertSettings::default())
    }

    pub fn with_alerts(
        db: Db,
        clock: SharedClock,
        settings: Settings,
        alerts: AlertSettings,
    ) -> App {
        // rustls needs its crypto provider chosen once per process; a second
        // call finds it installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = alerts.http_client().unwrap_or_else(|e| {
            // Sends still check the egress policy before each request; this
            // client at least follows no redirect and no proxy.
            tracing::error!(error = %e, "the webhook client could not be set up");
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap_or_default()
        });
        App {
            db,
            clock,
            settings: Arc::new(settings),
            registry: Arc::new(Registry::standard()),
            alerts: Arc::new(alerts),
            http,
            sign_in: SignInLimits::default(),
        }
    }

    /// The same service with other sign-in limits.
    pub fn with_sign_in_limits(mut self, limits: SignInLimits) -> App {
        self.sign_in = limits;
        self
    }

    /// The run service, with what a completed run sets off (the initiator's
    /// notification and the alert dispatch) and the runbooks' registry to
    /// plan a retry.
    pub fn runs(&self) -> OperationRunService {
        let subscribers: Vec<Arc<dyn RunCompletionSubscriber>> = vec![
            Arc::new(InitiatorNotifier),
            Arc::new(AlertDispatcher {
                settings: self.alerts.clone(),
                max_attempts: self.settings.max_attempts,
            }),
        ];
        OperationRunService::new(
            self.db.clone(),
            self.clock.clone(),
            self.settings.max_attempts,
            subscribers,
            self.registry.clone(),
        )
    }

    fn sender(&self) -> Sender {
        Sender {
            http: self.http.clone(),
            alerts: self.alerts.clone(),
        }
    }

    pub fn alert_service(&self) -> AlertService {
        AlertService::new(self.db.clone(), self.clock.clone(), self.sender())
            .with_max_attempts(self.settings.max_attempts)
    }

    pub fn runbooks(&self) -> RunbookService {
        RunbookService::new(
            self.db.clone(),
            self.clock.clone(),
            self.registry.clone(),
            self.runs(),
        )
    }

    /// A worker of the queue with every job kind's handler.
    pub fn worker(&self) -> Worker {
        let handlers = Handlers::default()
            .with(TenantJobHandler {
                runs: self.runs(),
                registry: self.registry.clone(),
                chunk_size: self.settings.chunk_size,
                locked_retry_ms: self.settings.locked_retry_ms,
            })
            .with(DeliveryJobHandler {
                sender: self.sender(),
            });
        let mut queue = self.settings.queue();
        if self.db.backend() == crate::storage::Backend::Postgres {
            queue.poll_interval_ms = queue.poll_interval_ms.max(PG_POLL_MS);
        }
        Worker::new(self.db.clone(), self.clock.clone(), queue, handlers)
    }

    /// Opens the database named by `url` (without migrating it) and assembles
    /// the service on the database's clock.
    pub async fn open(
        url: &str,
        connections: u32,
        settings: Settings,
        alerts: AlertSettings,
    ) -> Result<App, ConnectError> {
        App::open_on(url, connections, settings, alerts, crate::clock::system()).await
    }

    /// [`App::open`] on the machine clock `local`, which follows the
    /// database's clock from then on ([`db_clock::follow`]).
    pub async fn open_on(
        url: &str,
        connections: u32,
        settings: Settings,
        alerts: AlertSettings,
        local: SharedClock,
    ) -> Result<App, ConnectError> {
        let db = Db::open(url, connections).await?;
        let clock = db_clock::follow(&db, local).await;
        Ok(App::with_alerts(db, clock, settings, alerts))
    }

    /// Applies the migrations that are not applied yet.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        Ok(self.db.migrate().await?)
    }

    /// Creates workspace `default` and its tenant `platform` when missing.
    pub async fn bootstrap(&self) -> crate::error::Result<crate::domain::Workspace> {
        Ok(crate::storage::directory::bootstrap(&self.db, self.clock.now()).await?)
    }

    /// Closes the database's connections.
    pub async fn close(&self) {
        self.db.close().await
    }

    /// The bell: an operator's notifications.
    pub fn notifications(&self) -> NotificationService {
        NotificationService::new(self.db.clone(), self.clock.clone())
    }

    /// Runs as lists, failure groups and the tenants to pick.
    pub fn run_lists(&self) -> RunListService {
        RunListService::new(self.db.clone(), self.clock.clone())
    }

    /// The audit log's search.
    pub fn audit_log(&self) -> AuditLogService {
        AuditLogService::new(self.db.clone())
    }

    /// The customer plane's reads.
    pub fn customer(&self) -> CustomerService {
        CustomerService::new(self.db.clone(), self.clock.clone(), self.runs())
    }

    /// Readiness and the gauges.
    pub fn health(&self) -> HealthService {
        HealthService::new(self.db.clone())
    }

    /// The demo data.
    pub fn demo(&self) -> DemoService {
        DemoService::new(self.db.clone(), self.clock.clone())
    }

    /// Sign-in, the signed-in people and their sessions; a throttled
    /// sign-in key goes to the alert rules.
    pub fn accounts(&self) -> AccountService {
        let lockout: Arc<dyn ThrottleSubscriber> = Arc::new(LockoutAlerts {
            db: self.db.clone(),
            settings: self.alerts.clone(),
            max_attempts: self.settings.max_attempts,
        });
        AccountService::new(self.db.clone(), self.clock.clone(), self.sign_in.clone())
            .with_throttle_subscribers(vec![lockout])
    }
}

/// Why the database could not be opened: a malformed URL (the caller's
/// fault), an unreachable server, or failed migrations.
pub use crate::storage::ConnectError;
/// The database when none is named: a SQLite file in the current directory.
pub use crate::storage::DEFAULT_DATABASE_URL;
