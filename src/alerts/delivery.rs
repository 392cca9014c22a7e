//! The delivery job: sends one queued delivery; the queue retries a failed
//! send with backoff, and a delivery given up is recorded failed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::alerts::channels::{self, Sender};
use crate::alerts::message::AlertMessage;
use crate::alerts::values::Channel;
use crate::domain::JobKind;
use crate::error::Result;
use crate::queue::{Job, JobArgs, JobHandler, Outcome, Reason};
use crate::storage::alert_edits as edits;
use crate::storage::alerts as store;
use crate::storage::{Db, Tx};

/// Kind of the queued job that sends one delivery.
pub const DELIVERY_JOB: JobKind = JobKind("alert.delivery");

/// A delivery job's arguments: the delivery it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryArgs {
    pub delivery_id: i64,
}

impl JobArgs for DeliveryArgs {
    const KIND: JobKind = DELIVERY_JOB;
}

/// Sends deliveries; the queue retries a failed send with backoff.
pub struct DeliveryJobHandler {
    pub sender: Sender,
}

#[async_trait]
impl JobHandler for DeliveryJobHandler {
    type Args = DeliveryArgs;
    type Admitted = ();
    type Output = ();

    /// A slow receiver is covered by the job's heartbeat: it is not sent
    /// twice while the lease holds.
    async fn work(&self, job: &Job<DeliveryArgs>, _: &()) -> Outcome<()> {
        match deliver(&self.sender, job).await {
            Ok(()) => Outcome::Done(()),
            Err(error) => Outcome::retry(error),
        }
    }

    /// The queue gave up on the delivery: record it failed.
    async fn discarded(&self, tx: &mut Tx, job: &Job<DeliveryArgs>, _why: &Reason) -> Result<()> {
        store::mark_failed(tx, job.args.delivery_id).await?;
        Ok(())
    }
}

/// Sends one queued delivery. `Err` is retried by the queue with backoff.
async fn deliver(sender: &Sender, job: &Job<DeliveryArgs>) -> std::result::Result<(), String> {
    let db: &Db = job.db();
    let delivery_id = job.args.delivery_id;
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
            attempt = job.attempt,
            %reason,
            "alert delivery failed"
        );
    }
    sent
}
