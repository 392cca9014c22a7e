//! Deliveries of the workspace: the test message, numbered pages with the
//! next attempt of each waiting delivery, and retrying a failed one by hand.

use chrono::{DateTime, Utc};

use crate::alerts::channels;
use crate::alerts::delivery::DeliveryArgs;
use crate::alerts::message::AlertMessage;
use crate::alerts::service::{AlertService, not_found};
use crate::alerts::values::Channel;
use crate::alerts::views::{AlertsOverview, DeliveryPage, DeliveryView};
use crate::domain::{Actor, Capability, PageSpot};
use crate::error::{Error, Result};
use crate::queue::{self, Enqueue};
use crate::storage::alert_edits as edits;
use crate::storage::alerts::{self as store, NewDelivery};
use crate::storage::queue as q;

impl AlertService {
    /// Sends a test message to the destination now and records it.
    pub async fn test_destination(&self, actor: &Actor, id: i64) -> Result<DeliveryView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let dest = store::destination(&self.db, ws, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let channel: Channel =
            serde_json::from_str(&dest.config).map_err(|e| Error::Internal(e.into()))?;
        let message = AlertMessage {
            title: "Test message from TenantAtlas Ops".into(),
            summary: format!("Alerts for destination {:?} arrive here.", dest.name),
            runbook: "-".into(),
            scope: "-".into(),
            outcome: "test".into(),
            severity: "low".into(),
            counts: vec![],
            failures: vec![],
            facts: vec![],
            links: vec![],
            url: format!(
                "{}/system/alerts",
                self.settings().public_url.trim_end_matches('/')
            ),
        };
        let payload = serde_json::to_string(&message).map_err(|e| Error::Internal(e.into()))?;
        let now = self.clock.now();
        let key = format!("alert.test:{}", uuid::Uuid::new_v4());
        let mut tx = self.db.begin().await?;
        let delivery = NewDelivery {
            workspace_id: ws,
            rule_id: None,
            destination_id: id,
            event: "alert.test",
            event_key: &key,
            fingerprint: &key,
            severity: "low",
            run_id: None,
            payload: &payload,
            status: "queued",
            deliver_after: None,
        };
        let delivery_id = store::insert_delivery(&mut tx, &delivery, now)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("test delivery not recorded")))?;
        tx.commit().await?;
        let sent = channels::send(&self.sender, &channel, &message).await;
        store::record_attempt(
            &self.db,
            delivery_id,
            sent.as_ref().map(|_| ()).map_err(String::as_str),
            now,
        )
        .await?;
        if let Err(reason) = &sent {
            tracing::warn!(delivery_id, destination_id = id, %reason, "alert test message failed");
            store::mark_failed(&mut self.db.clone(), delivery_id).await?;
        }
        let detail = serde_json::json!({
            "target": channel.masked_target(),
            "sent": sent.is_ok(),
            "error": sent.as_ref().err(),
        });
        let subject = format!("alert_destination:{id}");
        self.audit(actor, "alert.destination.test", subject, detail)
            .await?;
        let d = edits::delivery(&self.db, ws, delivery_id)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("test delivery vanished")))?;
        Ok(DeliveryView::from(d))
    }

    /// The newest deliveries (the CLI's list).
    pub async fn deliveries(&self, actor: &Actor, limit: i64) -> Result<Vec<DeliveryView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let rows = edits::deliveries_page(&self.db, ws, limit.clamp(1, 1000), 0).await?;
        self.with_next_attempts(rows.into_iter().map(DeliveryView::from).collect())
            .await
    }

    /// Page `page` of the deliveries, newest first, clamped into the list.
    pub async fn delivery_page(&self, actor: &Actor, page: i64, size: i64) -> Result<DeliveryPage> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let total = edits::count_deliveries(&self.db, ws).await?;
        let spot = PageSpot::clamp(page, size, total);
        let rows = edits::deliveries_page(&self.db, ws, spot.size, spot.offset()).await?;
        let items = rows.into_iter().map(DeliveryView::from).collect();
        Ok(DeliveryPage {
            items: self.with_next_attempts(items).await?,
            spot,
        })
    }

    /// The alerts page's reads: destinations, rules and page `page` of the
    /// deliveries, each rule and destination named.
    pub async fn overview(&self, actor: &Actor, page: i64, size: i64) -> Result<AlertsOverview> {
        Ok(AlertsOverview {
            destinations: self.destinations(actor).await?,
            rules: self.rules(actor).await?,
            deliveries: self.delivery_page(actor, page, size).await?,
            max_attempts: self.max_attempts,
        })
    }

    /// The page of the list that shows this delivery.
    pub async fn page_of_delivery(&self, actor: &Actor, id: i64, size: i64) -> Result<i64> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let newer = edits::newer_than(&self.db, ws, id).await?;
        Ok(newer / size.max(1) + 1)
    }

    /// When each waiting delivery's job runs next.
    async fn with_next_attempts(&self, mut items: Vec<DeliveryView>) -> Result<Vec<DeliveryView>> {
        let ws = self.workspace_id().await?;
        for d in items.iter_mut() {
            if !matches!(d.status.as_str(), "queued" | "deferred") {
                continue;
            }
            let job = edits::delivery(&self.db, ws, d.id)
                .await?
                .and_then(|row| row.job_id);
            if let Some(job) = job {
                let at = q::next_run_at_ms(&mut self.db.clone(), job).await?;
                d.next_attempt_at = at.and_then(DateTime::<Utc>::from_timestamp_millis);
            }
        }
        Ok(items)
    }

    /// Sends a failed delivery again: queued now, with the attempts of a new
    /// delivery job. Only a failed delivery can be retried.
    pub async fn retry_delivery(&self, actor: &Actor, id: i64) -> Result<DeliveryView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let d = edits::delivery(&self.db, ws, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alert delivery {id} does not exist")))?;
        if d.status != "failed" {
            return Err(Error::Conflict(format!(
                "alert delivery {id} is {}: only a failed delivery can be retried",
                d.status
            )));
        }
        let Some(destination_id) = d.destination_id else {
            return Err(Error::Conflict(format!(
                "alert delivery {id} cannot be retried: its destination was deleted"
            )));
        };
        let dest = store::destination(&self.db, ws, destination_id).await?;
        if !dest.as_ref().is_some_and(|d| d.enabled) {
            return Err(Error::Conflict(format!(
                "alert delivery {id} cannot be retried: destination {destination_id} is disabled; enable it first"
            )));
        }
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        if !edits::requeue_failed(&mut tx, ws, id).await? {
            tx.rollback().await?;
            return Err(Error::Conflict(format!(
                "alert delivery {id} changed meanwhile: only a failed delivery can be retried"
            )));
        }
        let at = Enqueue {
            run_at_ms: now.timestamp_millis(),
            run_id: d.run_id,
            tenant_id: None,
            max_attempts: self.max_attempts,
        };
        let job_id = queue::enqueue(&mut tx, &DeliveryArgs { delivery_id: id }, at).await?;
        edits::link_job(&mut tx, id, job_id).await?;
        tx.commit().await?;
        let detail = serde_json::json!({
            "destination_id": destination_id, "attempts_before": d.attempts,
            "last_error": d.last_error,
        });
        self.audit(
            actor,
            "alert.delivery.retry",
            format!("alert_delivery:{id}"),
            detail,
        )
        .await?;
        let d = edits::delivery(&self.db, ws, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alert delivery {id} does not exist")))?;
        Ok(self
            .with_next_attempts(vec![DeliveryView::from(d)])
            .await?
            .remove(0))
    }
}
