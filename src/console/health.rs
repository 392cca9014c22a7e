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
}
