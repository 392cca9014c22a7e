//! A running job's heartbeat: renews its lease every third of the lease and
//! raises a stop flag when the lease is lost, so the work ends instead of
//! racing the job's new owner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::SharedClock;
use crate::storage::Db;
use crate::storage::queue as q;

/// Renews what a job holds besides its lease (a tenant's lock), each time
/// the lease is renewed.
#[async_trait]
pub trait LeaseHook: Send + Sync {
    async fn renewed(&self, db: &Db, owner: &str, until_ms: i64);
}

/// Stops renewing when dropped.
pub struct Heartbeat {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    pub(super) fn start(
        db: Db,
        clock: SharedClock,
        job_id: i64,
        owner: String,
        lease_ms: i64,
        hook: Option<Arc<dyn LeaseHook>>,
    ) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let every = Duration::from_millis((lease_ms / 3).max(50) as u64);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = clock.now_ms();
                let until = now + lease_ms;
                match q::renew(&mut db.clone(), job_id, &owner, until, now).await {
                    Ok(true) => {
                        if let Some(hook) = &hook {
                            hook.renewed(&db, &owner, until).await;
                        }
                    }
                    Ok(false) => {
                        tracing::warn!(job = job_id, "lease lost; stopping the job");
                        flag.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => tracing::warn!(job = job_id, error = %e, "renewing the lease failed"),
                }
            }
        });
        Heartbeat { stop, task }
    }

    /// Raised when the lease was lost: the work must stop.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
