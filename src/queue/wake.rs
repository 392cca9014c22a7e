//! Wakes a worker's idle loops: at once on PostgreSQL, whose enqueueing
//! transactions `NOTIFY` on commit, and on both backends after a cheap
//! read-only look every poll interval finds a job ready, a delayed one due or
//! a lease expired. Only this one task looks while the loops are idle.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::Engine;
use crate::storage::queue::{self as q, CommitProbe, JobListener};

/// Without a commit since the last look, an idle loop still looks this
/// often: a retry's backoff or a dead worker's lease ends without one.
const LOOK_AT_LEAST_EVERY: Duration = Duration::from_secs(1);

pub(super) async fn watch(engine: Engine, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_millis(engine.settings.poll_interval_ms.max(1));
    let mut listener = listen(&engine).await;
    let mut probe = CommitProbe::new(&engine.db);
    let mut looked = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            heard = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                match heard {
                    Ok(()) => wake.notify_waiters(),
                    Err(e) => {
                        // Polling goes on; listening is tried again next tick.
                        tracing::warn!(error = %e, "listening for new jobs failed");
                        listener = None;
                    }
                }
            }
            _ = tick.tick() => {
                if listener.is_none() {
                    listener = listen(&engine).await;
                }
                if !probe.changed() && looked.elapsed() < LOOK_AT_LEAST_EVERY {
                    continue;
                }
                looked = tokio::time::Instant::now();
                let now = engine.clock.now_ms();
                match q::anything_to_claim(&mut engine.db.clone(), now).await {
                    Ok(true) => wake.notify_waiters(),
                    Ok(false) => {}
                    Err(e) => tracing::debug!(error = %e, "looking for jobs failed"),
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

async fn listen(engine: &Engine) -> Option<JobListener> {
    match JobListener::connect(&engine.db).await? {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(error = %e, "listening for new jobs failed; polling instead");
            None
        }
    }
}
