//! A running job's heartbeat: renews its lease every third of the lease and
//! raises a stop flag when the lease is lost, so the work ends instead of
//! racing the job's new owner.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// What a heartbeat renews: one job, or every running job of its owner (a
/// batch), of which `expected` are still held; fewer renewed means a lease
/// was lost.
pub(super) enum Leased {
    Job(i64),
    Batch(Arc<AtomicUsize>),
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
        leased: Leased,
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
                let renewed = match &leased {
                    Leased::Job(id) => q::renew(&mut db.clone(), *id, &owner, until, now).await,
                    Leased::Batch(expected) => q::renew_all(&mut db.clone(), &owner, until, now)
                        .await
                        .map(|n| n as usize >= expected.load(Ordering::SeqCst)),
                };
                match renewed {
                    Ok(true) => {
                        if let Some(hook) = &hook {
                            hook.renewed(&db, &owner, until).await;
                        }
                    }
                    Ok(false) => {
                        tracing::warn!(%owner, "lease lost; stopping the job");
                        flag.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(e) => tracing::warn!(%owner, error = %e, "renewing the lease failed"),
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
