//! The delivery job: sends one queued delivery, retried with backoff by the
//! queue, then recorded failed.

use async_trait::async_trait;

use crate::alerts::channels::{self, Sender};
use crate::alerts::message::AlertMessage;
use crate::alerts::rules::Channel;
use crate::domain::{JobKind, JobStatus};
use crate::error::Result;
use crate::queue::{Failed, Job, JobHandler, JobOutcome};
use crate::storage::alert_edits as edits;
use crate::storage::alerts as store;
use crate::storage::{Db, Tx};

/// Kind of the queued job that sends one delivery.
pub const DELIVERY_JOB: JobKind = JobKind("alert.delivery");

/// Sends deliveries; the queue retries a failed send with backoff.
pub struct DeliveryJobHandler {
    pub sender: Sender,
}

#[async_trait]
impl JobHandler for DeliveryJobHandler {
    fn kind(&self) -> JobKind {
        DELIVERY_JOB
    }

    async fn run(&self, job: &Job, tx: Tx) -> Result<JobOutcome> {
        tx.commit().await?;
        let sent = if job.attempts_exhausted() {
            Err(job.exhausted_error())
        } else {
            // A slow receiver must not outlast the lease and be sent twice.
            let _heartbeat = job.heartbeat(None);
            deliver(&self.sender, job, &job.row.payload).await
        };
        let mut tx = job.db().begin_relaxed().await?;
        let outcome = match sent {
            Ok(()) => return job.end(tx, JobStatus::Done, None).await,
            Err(error) => match job.fail(&mut tx, &error).await? {
                Failed::Retrying => JobOutcome::Retrying(error),
                Failed::Dead { .. } => {
                    delivery_dead(&mut tx, &job.row.payload).await?;
                    JobOutcome::Dead(error)
                }
            },
        };
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Sends one queued delivery. `Err` is retried by the queue with backoff.
async fn deliver(sender: &Sender, job: &Job, payload: &str) -> std::result::Result<(), String> {
    let db: &Db = job.db();
    let delivery_id = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["delivery_id"].as_i64())
        .ok_or_else(|| format!("bad delivery job payload {payload:?}"))?;
    let db_err = |e: sqlx::Error| format!("database error: {e}");
    let Some(d) = store::pending_delivery(db, delivery_id)
        .await
        .map_err(db_err)?
    else {
        return Ok(());
    };
    if !matches!(d.status.as_str(), "queued" | "deferred") {
        // Already sent (a retried job after a crash), suppressed or given up.
        return Ok(());
    }
    let Some(destination_id) = d.destination_id else {
        store::mark_failed(&mut db.clone(), d.id)
            .await
            .map_err(db_err)?;
        return Ok(());
    };
    let Some(dest) = store::destination(db, d.workspace_id, destination_id)
        .await
        .map_err(db_err)?
    else {
        store::mark_failed(&mut db.clone(), d.id)
            .await
            .map_err(db_err)?;
        return Ok(());
    };
    if !dest.enabled {
        edits::mark_suppressed(db, d.id, "destination disabled before sending")
            .await
            .map_err(db_err)?;
        return Ok(());
    }
    let message: AlertMessage =
        serde_json::from_str(&d.payload).map_err(|e| format!("bad delivery payload: {e}"))?;
    let channel: Channel =
        serde_json::from_str(&dest.config).map_err(|e| format!("bad destination config: {e}"))?;
    let sent = channels::send(sender, &channel, &message).await;
    let now = job.clock().now();
    store::record_attempt(
        db,
        d.id,
        sent.as_ref().map(|_| ()).map_err(String::as_str),
        now,
    )
    .await
    .map_err(db_err)?;
    if let Err(reason) = &sent {
        // Channel errors never hold a webhook's URL, only its masked host.
        tracing::warn!(
            delivery_id = d.id,
            destination_id,
            attempt = job.row.attempts,
            %reason,
            "alert delivery failed"
        );
    }
    sent
}

/// The queue gave up on a delivery: record it failed.
async fn delivery_dead(tx: &mut Tx, payload: &str) -> std::result::Result<(), sqlx::Error> {
    if let Some(id) = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["delivery_id"].as_i64())
    {
        store::mark_failed(tx, id).await?;
    }
    Ok(())
}
