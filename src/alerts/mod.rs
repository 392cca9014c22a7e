//! Failure notifications and alert routing (FR-009).
//!
//! When a run completes, its platform initiator gets an in-app notification;
//! a run that failed or partially failed emits `operation_run.failed` to the
//! dispatcher, which applies the workspace's rules (event, minimum severity,
//! cooldown, quiet hours) and queues one delivery per rule × destination.
//! Workers send deliveries with retries and backoff; nothing is sent from the
//! run's own job.

pub mod channels;
pub mod rules;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::app::App;
use crate::domain::Capability;
use crate::error::{Error, Result};
use crate::runs::{Initiator, Outcome, Run};
use crate::service::Actor;
use crate::storage::alerts::{self as store, Delivery, NewDelivery};
use crate::storage::{Tx, queue as q};
pub use rules::{Channel, QuietHours, RUN_FAILED_EVENT, Severity};

/// Kind of the queued job that sends one delivery.
pub const DELIVERY_JOB: &str = "alert.delivery";

/// What alerts need from the environment.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// `TENANTATLAS_PUBLIC_URL`: absolute links in messages.
    pub public_url: String,
    /// `SMTP_URL`, e.g. `smtp://127.0.0.1:25` or `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    /// `TENANTATLAS_MAIL_FROM`.
    pub mail_from: String,
    /// Bound on one send (HTTP request or SMTP session).
    pub timeout_ms: u64,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            public_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            mail_from: "TenantAtlas Ops <ops@tenantatlas.localhost>".into(),
            timeout_ms: 10_000,
        }
    }
}

/// The message every channel renders.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct AlertMessage {
    pub title: String,
    pub summary: String,
    pub runbook: String,
    pub scope: String,
    pub outcome: String,
    pub severity: String,
    pub counts: Vec<(String, i64)>,
    pub failures: Vec<String>,
    pub url: String,
}

impl AlertMessage {
    fn for_run(run: &Run, severity: Severity, public_url: &str) -> AlertMessage {
        let c = &run.summary_counts;
        AlertMessage {
            title: format!(
                "Run {} {}: {}",
                run.id,
                outcome_words(run.outcome),
                run.run_type
            ),
            summary: format!(
                "{} of {} tenants failed ({} items updated, {} failed).",
                c.failed, c.total, c.items_updated, c.items_failed
            ),
            runbook: run.run_type.clone(),
            scope: run.context.scope.describe(),
            outcome: run.outcome.as_str().into(),
            severity: severity.as_str().into(),
            counts: vec![
                ("tenants".into(), c.total),
                ("succeeded".into(), c.succeeded),
                ("failed".into(), c.failed),
                ("items updated".into(), c.items_updated),
                ("items failed".into(), c.items_failed),
            ],
            failures: run
                .failures
                .iter()
                .take(5)
                .map(|f| {
                    format!(
                        "{}: {} — {}",
                        f.tenant_external_id.as_deref().unwrap_or("-"),
                        f.reason_code,
                        f.message
                    )
                })
                .collect(),
            url: run_url(public_url, run.id),
        }
    }
}

pub fn run_url(public_url: &str, run_id: i64) -> String {
    format!("{}/system/runs/{run_id}", public_url.trim_end_matches('/'))
}

fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "succeeded",
        Outcome::PartiallySucceeded => "partially succeeded",
        Outcome::Failed => "failed",
        Outcome::Cancelled => "was cancelled",
        Outcome::Pending => "is pending",
    }
}

/// Called in the transaction that completes a run: the initiator's
/// notification, and the alert event when the run failed.
pub async fn on_run_completed(
    app_settings: &AlertSettings,
    tx: &mut Tx,
    run: &Run,
    now: DateTime<Utc>,
    max_attempts: i64,
) -> Result<()> {
    if let Initiator::PlatformUser { id, .. } = &run.context.initiator {
        let c = &run.summary_counts;
        let summary = format!(
            "{} of {} tenants processed: {} succeeded, {} failed · {} items updated, {} skipped, {} failed",
            c.processed,
            c.total,
            c.succeeded,
            c.failed,
            c.items_updated,
            c.items_skipped,
            c.items_failed
        );
        let body = serde_json::json!({
            "run_id": run.id,
            "runbook": run.run_type,
            "outcome": run.outcome,
            "summary": summary,
            "summary_counts": c,
        });
        let title = format!(
            "Run {} {}: {}",
            run.id,
            outcome_words(run.outcome),
            run.run_type
        );
        store::insert_notification(
            tx,
            *id,
            "operation_run.completed",
            &title,
            &body.to_string(),
            &format!("/system/runs/{}", run.id),
            now,
        )
        .await?;
    }
    let severity = match run.outcome {
        Outcome::Failed => Severity::Critical,
        Outcome::PartiallySucceeded => Severity::High,
        _ => return Ok(()),
    };
    let Some(workspace_id) = run.workspace_id else {
        return Ok(());
    };
    let message = AlertMessage::for_run(run, severity, &app_settings.public_url);
    let payload = serde_json::to_string(&message).map_err(|e| Error::Internal(e.into()))?;
    let scope = serde_json::to_string(&run.context.scope).map_err(|e| Error::Internal(e.into()))?;
    let fingerprint = format!("{}|{scope}", run.run_type);
    let event_key = format!("{RUN_FAILED_EVENT}:run:{}", run.id);
    for rule in store::rules_for_event(tx, workspace_id, RUN_FAILED_EVENT).await? {
        let min = Severity::parse(&rule.min_severity).unwrap_or(Severity::Low);
        if severity < min {
            continue;
        }
        let cooling = rule.cooldown_seconds > 0
            && store::recently_alerted(
                tx,
                rule.id,
                &fingerprint,
                now - Duration::seconds(rule.cooldown_seconds),
            )
            .await?;
        let defer_until = match (&rule.quiet_hours, &rule.timezone) {
            (Some(w), Some(tz)) => QuietHours::parse(w, tz)
                .ok()
                .and_then(|q| q.defer_until(now)),
            _ => None,
        };
        let status = match (cooling, defer_until) {
            (true, _) => "suppressed",
            (false, Some(_)) => "deferred",
            (false, None) => "queued",
        };
        for destination_id in store::destinations_of_rule(tx, rule.id).await? {
            let delivery = NewDelivery {
                workspace_id,
                rule_id: Some(rule.id),
                destination_id,
                event: RUN_FAILED_EVENT,
                event_key: &event_key,
                fingerprint: &fingerprint,
                severity: severity.as_str(),
                run_id: Some(run.id),
                payload: &payload,
                status,
                deliver_after: defer_until,
            };
            let Some(id) = store::insert_delivery(tx, &delivery, now).await? else {
                continue;
            };
            if status != "suppressed" {
                let at = defer_until.unwrap_or(now).timestamp_millis();
                let job = serde_json::json!({ "delivery_id": id }).to_string();
                q::enqueue(tx, DELIVERY_JOB, Some(run.id), None, &job, at, max_attempts).await?;
            }
        }
    }
    Ok(())
}

/// Sends one queued delivery. `Err` is retried by the queue with backoff.
pub async fn deliver(app: &App, payload: &str) -> std::result::Result<(), String> {
    let delivery_id = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["delivery_id"].as_i64())
        .ok_or_else(|| format!("bad delivery job payload {payload:?}"))?;
    let db_err = |e: sqlx::Error| format!("database error: {e}");
    let Some(d) = store::pending_delivery(&app.db, delivery_id)
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
        store::mark_failed(&mut app.db.clone(), d.id)
            .await
            .map_err(db_err)?;
        return Ok(());
    };
    let Some(dest) = store::destination(&app.db, d.workspace_id, destination_id)
        .await
        .map_err(db_err)?
    else {
        store::mark_failed(&mut app.db.clone(), d.id)
            .await
            .map_err(db_err)?;
        return Ok(());
    };
    let message: AlertMessage =
        serde_json::from_str(&d.payload).map_err(|e| format!("bad delivery payload: {e}"))?;
    let channel: Channel =
        serde_json::from_str(&dest.config).map_err(|e| format!("bad destination config: {e}"))?;
    let sent = channels::send(app, &channel, &message).await;
    let now = app.clock.now();
    store::record_attempt(
        &app.db,
        d.id,
        sent.as_ref().map(|_| ()).map_err(String::as_str),
        now,
    )
    .await
    .map_err(db_err)?;
    sent
}

/// The queue gave up on a delivery: record it failed.
pub async fn delivery_dead(tx: &mut Tx, payload: &str) -> std::result::Result<(), sqlx::Error> {
    if let Some(id) = serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["delivery_id"].as_i64())
    {
        store::mark_failed(tx, id).await?;
    }
    Ok(())
}

/// A destination as shown: the webhook URL masked.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationView {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown_seconds: i64,
    pub quiet_hours: Option<String>,
    pub timezone: Option<String>,
    pub destination_ids: Vec<i64>,
    pub created_at: DateTime<Utc>,
}

/// A rule as a door received it, before checks.
#[derive(Debug, Clone, Default)]
pub struct RuleRequest {
    pub name: String,
    pub event: String,
    pub destination_ids: Vec<i64>,
    pub min_severity: Option<String>,
    pub cooldown_seconds: Option<i64>,
    pub quiet_hours: Option<String>,
    pub timezone: Option<String>,
}

/// Alert destinations and rules of the workspace, for every door.
#[derive(Clone)]
pub struct AlertService {
    app: App,
}

impl AlertService {
    pub fn new(app: App) -> AlertService {
        AlertService { app }
    }

    async fn workspace_id(&self) -> Result<i64> {
        Ok(self.app.runbooks().workspace().await?.id)
    }

    fn check_name(name: &str) -> Result<String> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::BadInput(
                "a name of 1 to 100 characters is required".into(),
            ));
        }
        Ok(name.to_owned())
    }

    pub async fn add_destination(
        &self,
        actor: &Actor,
        name: &str,
        channel: Channel,
    ) -> Result<DestinationView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let name = Self::check_name(name)?;
        let ws = self.workspace_id().await?;
        let config = serde_json::to_string(&channel).map_err(|e| Error::Internal(e.into()))?;
        let now = self.app.clock.now();
        let id = store::insert_destination(&self.app.db, ws, &name, channel.kind(), &config, now)
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
        Ok(store::destinations(&self.app.db, ws)
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

    pub async fn remove_destination(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_destination(&self.app.db, ws, id).await? {
            return Err(Error::NotFound(format!(
                "alert destination {id} does not exist"
            )));
        }
        Ok(())
    }

    /// Sends a test message to the destination now and records it.
    pub async fn test_destination(&self, actor: &Actor, id: i64) -> Result<Delivery> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let dest = store::destination(&self.app.db, ws, id)
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
            url: format!(
                "{}/system/alerts",
                self.app.alerts.public_url.trim_end_matches('/')
            ),
        };
        let payload = serde_json::to_string(&message).map_err(|e| Error::Internal(e.into()))?;
        let now = self.app.clock.now();
        let key = format!("alert.test:{}", uuid::Uuid::new_v4());
        let mut tx = self.app.db.begin().await?;
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
        let sent = channels::send(&self.app, &channel, &message).await;
        store::record_attempt(
            &self.app.db,
            delivery_id,
            sent.as_ref().map(|_| ()).map_err(String::as_str),
            now,
        )
        .await?;
        if sent.is_err() {
            store::mark_failed(&mut self.app.db.clone(), delivery_id).await?;
        }
        let list = store::deliveries(&self.app.db, ws, 50).await?;
        list.into_iter()
            .find(|d| d.id == delivery_id)
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
            (Some(_), None) => return Err(Error::BadInput("quiet hours need a --timezone".into())),
            (None, Some(_)) => {
                return Err(Error::BadInput(
                    "a time zone is only used with --quiet-hours".into(),
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
            if store::destination(&self.app.db, ws, *id).await?.is_none() {
                return Err(Error::BadInput(format!(
                    "alert destination {id} does not exist"
                )));
            }
        }
        let now = self.app.clock.now();
        let id = store::insert_rule(
            &self.app.db,
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
        let links = store::rule_destinations(&self.app.db).await?;
        Ok(store::rules(&self.app.db, ws)
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

    pub async fn remove_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_rule(&self.app.db, ws, id).await? {
            return Err(Error::NotFound(format!("alert rule {id} does not exist")));
        }
        Ok(())
    }

    pub async fn deliveries(&self, actor: &Actor, limit: i64) -> Result<Vec<Delivery>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        Ok(store::deliveries(&self.app.db, ws, limit.clamp(1, 1000)).await?)
    }
}
