//! The assembled service: database, clock, settings, runbook registry.
//! Every door builds one `App` and calls the services hanging off it.

use std::sync::Arc;

use crate::accounts::AccountService;
use crate::alerts::{AlertService, AlertSettings};
use crate::clock::SharedClock;
use crate::console::ConsoleService;
use crate::runbooks::Registry;
use crate::runs::OperationRunService;
use crate::service::RunbookService;
use crate::storage::Db;

/// Tunables of runs and the queue (environment variables in the CLI).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `TENANTATLAS_JOB_LEASE_SECONDS`: a job's lease, renewed while it runs.
    pub job_lease_ms: i64,
    /// Attempts of a job before it is recorded dead.
    pub max_attempts: i64,
    /// First retry delay; doubles per attempt up to `backoff_max_ms`.
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
    /// How long a job whose tenant is locked waits before it is tried again.
    pub locked_retry_ms: i64,
    /// Items per transaction in a runbook.
    pub chunk_size: i64,
    /// How often an idle worker looks for work.
    pub poll_interval_ms: u64,
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
            poll_interval_ms: 250,
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
        App {
            db,
            clock,
            settings: Arc::new(settings),
            registry: Arc::new(Registry::standard()),
            alerts: Arc::new(alerts),
            http: reqwest::Client::new(),
        }
    }

    pub fn runs(&self) -> OperationRunService {
        OperationRunService::new(
            self.db.clone(),
            self.clock.clone(),
            self.settings.max_attempts,
            self.alerts.clone(),
        )
    }

    pub fn alert_service(&self) -> AlertService {
        AlertService::new(self.clone())
    }

    pub fn runbooks(&self) -> RunbookService {
        RunbookService::new(self.clone())
    }

    /// Reads of the console and the customer plane, and the demo data.
    pub fn console(&self) -> ConsoleService {
        ConsoleService::new(self.db.clone(), self.clock.clone(), self.runs())
    }

    /// Sign-in, the signed-in people and their sessions.
    pub fn accounts(&self) -> AccountService {
        AccountService::new(self.db.clone(), self.clock.clone())
    }
}
