//! The process's own reads: readiness (the database answers) and the
//! gauges the metrics endpoint shows (queue depth, completed runs). No
//! identity: the health routes are open, the metrics route has its token.

use crate::error::Result;
use crate::storage::runs::reads as run_reads;
use crate::storage::{Db, queue};

/// Readiness and the deployment-wide gauges.
#[derive(Clone)]
pub struct HealthService {
    db: Db,
}

impl HealthService {
    pub fn new(db: Db) -> HealthService {
        HealthService { db }
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> Result<()> {
        Ok(self.db.ping().await?)
    }

    /// Jobs waiting (available or retryable) or running, in the whole deployment.
    pub async fn queue_depth(&self) -> Result<i64> {
        Ok(queue::depth(&mut self.db.clone()).await?)
    }

    /// Completed runs by outcome, in the whole deployment.
    pub async fn completed_runs(&self) -> Result<Vec<(String, i64)>> {
        Ok(run_reads::completed_runs_by_outcome(&self.db).await?)
    }

    /// Sets the deployment-wide series (queue depth, completed runs) from
    /// the database before a scrape; one that cannot be read keeps its
    /// last value, and the failure is logged.
    pub async fn refresh_gauges(&self) {
        match self.queue_depth().await {
            Ok(depth) => metrics::gauge!("tenantatlas_queue_depth").set(depth as f64),
            Err(e) => tracing::warn!(error = %e.detail(), "queue depth unavailable"),
        }
        match self.completed_runs().await {
            Ok(rows) => {
                for (outcome, n) in rows {
                    metrics::counter!("tenantatlas_runs_completed_total", "outcome" => outcome)
                        .absolute(n.max(0) as u64);
                }
            }
            Err(e) => tracing::warn!(error = %e.detail(), "completed runs unavailable"),
        }
    }
}
