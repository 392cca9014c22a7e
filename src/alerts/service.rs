//! Alert destinations and rules of the workspace, for every door.

use std::sync::Arc;

use crate::alerts::AlertSettings;
use crate::alerts::channels::{self, Sender};
use crate::alerts::message::AlertMessage;
use crate::alerts::rules::{self, Channel, QuietHours, Severity};
use crate::alerts::views::{DeliveryView, DestinationView, RuleRequest, RuleView};
use crate::clock::SharedClock;
use crate::domain::{Actor, Capability, TextKind};
use crate::error::{Error, Result};
use crate::storage::alerts::{self as store, NewDelivery};
use crate::storage::{Db, directory};

/// Alert destinations and rules of the workspace, for every door.
#[derive(Clone)]
pub struct AlertService {
    db: Db,
    clock: SharedClock,
    sender: Sender,
}

impl AlertService {
    pub fn new(db: Db, clock: SharedClock, sender: Sender) -> AlertService {
        AlertService { db, clock, sender }
    }

    fn settings(&self) -> &Arc<AlertSettings> {
        &self.sender.alerts
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        subject: String,
        detail: serde_json::Value,
    ) -> Result<()> {
        let entry = actor.audit(action, Some(subject), detail);
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(())
    }

    async fn workspace_id(&self) -> Result<i64> {
        Ok(directory::default_workspace(&self.db).await?.id)
    }

    fn check_name(name: &str) -> Result<String> {
        Ok(TextKind::NAME
            .require("name", name)
            .map_err(Error::BadInput)?
            .to_owned())
    }

    pub async fn add_destination(
        &self,
        actor: &Actor,
        name: &str,
        channel: Channel,
    ) -> Result<DestinationView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let name = Self::check_name(name)?;
        if let Channel::Teams { url } = &channel {
            self.settings()
                .webhook_policy
                .check(url)
                .await
                .map_err(Error::BadInput)?;
        }
        let ws = self.workspace_id().await?;
        let config = serde_json::to_string(&channel).map_err(|e| Error::Internal(e.into()))?;
        let now = self.clock.now();
        let id =
            store::insert_destination(&self.db, ws, &name, channel.kind(), &config, now).await?;
        let detail = serde_json::json!({
            "name": name, "type": channel.kind(), "target": channel.masked_target(),
        });
        self.audit(
            actor,
            "alert.destination.create",
            format!("alert_destination:{id}"),
            detail,
        )
        .await?;
        Ok(DestinationView {
            id,
            name,
            kind: channel.kind().into(),
            target: channel.masked_target(),
            created_at: now,
        })
    }

    pub async fn destinations(&self, actor: &Actor) -> Result<Vec<DestinationView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        Ok(store::destinations(&self.db, ws)
            .await?
            .into_iter()
            .map(|d| DestinationView {
                target: serde_json::from_str::<Channel>(&d.config)
                    .map(|c| c.masked_target())
                    .unwrap_or_default(),
                id: d.id,
                name: d.name,
                kind: d.kind,
                created_at: d.created_at,
            })
            .collect())
    }

    /// One destination of the workspace, its URL masked.
    pub async fn destination(&self, actor: &Actor, id: i64) -> Result<DestinationView> {
        self.destinations(actor)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| Error::NotFound(format!("alert destination {id} does not exist")))
    }

    pub async fn remove_destination(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_destination(&self.db, ws, id).await? {
            return Err(Error::NotFound(format!(
                "alert destination {id} does not exist"
            )));
        }
        let subject = format!("alert_destination:{id}");
        self.audit(
            actor,
            "alert.destination.delete",
            subject,
            serde_json::json!({}),
        )
        .await
    }

    /// Sends a test message to the destination now and records it.
    pub async fn test_destination(&self, actor: &Actor, id: i64) -> Result<DeliveryView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let dest = store::destination(&self.db, ws, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alert destination {id} does not exist")))?;
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
        if sent.is_err() {
            store::mark_failed(&mut self.db.clone(), delivery_id).await?;
        }
        let detail = serde_json::json!({
            "target": channel.masked_target(),
            "sent": sent.is_ok(),
            "error": sent.as_ref().err(),
        });
        self.audit(
            actor,
            "alert.destination.test",
            format!("alert_destination:{id}"),
            detail,
        )
        .await?;
        let list = store::deliveries(&self.db, ws, 50).await?;
        list.into_iter()
            .find(|d| d.id == delivery_id)
            .map(DeliveryView::from)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("test delivery vanished")))
    }

    pub async fn add_rule(&self, actor: &Actor, req: RuleRequest) -> Result<RuleView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let name = Self::check_name(&req.name)?;
        let event = rules::parse_event(&req.event).map_err(Error::BadInput)?;
        let min = match &req.min_severity {
            Some(s) => Severity::parse(s).map_err(Error::BadInput)?,
            None => Severity::Low,
        };
        let cooldown = req.cooldown_seconds.unwrap_or(0);
        if !(0..=30 * 86_400).contains(&cooldown) {
            return Err(Error::BadInput(
                "the cooldown must be 0 to 2592000 seconds".into(),
            ));
        }
        let quiet = match (&req.quiet_hours, &req.timezone) {
            (None, None) => None,
            (Some(w), Some(tz)) => {
                let q = QuietHours::parse(w, tz).map_err(Error::BadInput)?;
                Some((q.window(), q.tz.name().to_owned()))
            }
            (Some(_), None) => {
                return Err(Error::BadInput(
                    "quiet hours need a time zone (an IANA name such as Europe/Berlin)".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(Error::BadInput(
                    "a time zone is only used with quiet hours".into(),
                ));
            }
        };
        if req.destination_ids.is_empty() {
            return Err(Error::BadInput(
                "a rule needs at least one destination".into(),
            ));
        }
        let ws = self.workspace_id().await?;
        for id in &req.destination_ids {
            if store::destination(&self.db, ws, *id).await?.is_none() {
                return Err(Error::BadInput(format!(
                    "alert destination {id} does not exist"
                )));
            }
        }
        let now = self.clock.now();
        let id = store::insert_rule(
            &self.db,
            ws,
            &name,
            event,
            min.as_str(),
            cooldown,
            quiet.clone(),
            &req.destination_ids,
            now,
        )
        .await?;
        let detail = serde_json::json!({
            "name": name, "event": event, "min_severity": min.as_str(),
            "destination_ids": req.destination_ids,
        });
        self.audit(
            actor,
            "alert.rule.create",
            format!("alert_rule:{id}"),
            detail,
        )
        .await?;
        Ok(RuleView {
            id,
            name,
            event: event.into(),
            min_severity: min.as_str().into(),
            cooldown_seconds: cooldown,
            quiet_hours: quiet.as_ref().map(|q| q.0.clone()),
            timezone: quiet.map(|q| q.1),
            destination_ids: req.destination_ids,
            created_at: now,
        })
    }

    pub async fn rules(&self, actor: &Actor) -> Result<Vec<RuleView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let links = store::rule_destinations(&self.db).await?;
        Ok(store::rules(&self.db, ws)
            .await?
            .into_iter()
            .map(|r| RuleView {
                destination_ids: links
                    .iter()
                    .filter(|(rule, _)| *rule == r.id)
                    .map(|(_, d)| *d)
                    .collect(),
                id: r.id,
                name: r.name,
                event: r.event,
                min_severity: r.min_severity,
                cooldown_seconds: r.cooldown_seconds,
                quiet_hours: r.quiet_hours,
                timezone: r.timezone,
                created_at: r.created_at,
            })
            .collect())
    }

    /// One rule of the workspace.
    pub async fn rule(&self, actor: &Actor, id: i64) -> Result<RuleView> {
        self.rules(actor)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| Error::NotFound(format!("alert rule {id} does not exist")))
    }

    pub async fn remove_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_rule(&self.db, ws, id).await? {
            return Err(Error::NotFound(format!("alert rule {id} does not exist")));
        }
        let subject = format!("alert_rule:{id}");
        self.audit(actor, "alert.rule.delete", subject, serde_json::json!({}))
            .await
    }

    pub async fn deliveries(&self, actor: &Actor, limit: i64) -> Result<Vec<DeliveryView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let rows = store::deliveries(&self.db, ws, limit.clamp(1, 1000)).await?;
        Ok(rows.into_iter().map(DeliveryView::from).collect())
    }
}
