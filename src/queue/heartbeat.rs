//! A claim's heartbeat: renews the leases of the jobs its owner holds every
//! third of the lease, and raises the claim's stop flag when a lease is lost,
//! so the work ends instead of racing the job's new owner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::SharedClock;
use crate::storage::Db;
use crate::storage::queue as q;

/// Renews what a kind holds besides its jobs' leases (a tenant's lock),
/// each time the leases are renewed.
#[async_trait]
pub trait LeaseHook: Send + Sync {
    async fn renewed(&self, db: &Db, owner: &str, until_ms: i64);
}

/// Stops renewing when dropped.
pub(super) struct Heartbeat {
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Renews the `held` running jobs of `owner`; fewer renewed means a lease
    /// was lost, and `stop` is raised.
    pub(super) fn start(
        db: Db,
        clock: SharedClock,
        owner: String,
        held: usize,
        lease_ms: i64,
        stop: Arc<AtomicBool>,
        hook: Option<Arc<dyn LeaseHook>>,
    ) -> Heartbeat {
        let every = Duration::from_millis((lease_ms / 3).max(50) as u64);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = clock.now_ms();
                let until = now + lease_ms;
                match q::renew_all(&mut db.clone(), &owner, until, now).await {
                    Ok(n) if n as usize >= held => {
                        if let Some(hook) = &hook {
                            hook.renewed(&db, &owner, until).await;
                        }
                    }
                    Ok(_) => {
                        tracing::warn!(%owner, "lease lost; stopping the job");
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => tracing::warn!(%owner, error = %e, "renewing the lease failed"),
                }
            }
        });
        Heartbeat { task }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}
