//! The alert rules' one intake: an event (what happened, how serious, what
//! cooldown compares, its message) is matched against the workspace's rules
//! subscribed to it and becomes one delivery per rule × destination —
//! queued, deferred to the end of quiet hours, or suppressed by cooldown.
//! Every event source (a failed run, a recovered run, a throttled sign-in)
//! comes through here, inside the transaction that records what happened.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::alerts::delivery::DeliveryArgs;
use crate::alerts::message::AlertMessage;
use crate::alerts::values::{QuietHours, Severity, cooldown_words};
use crate::error::{Error, Result};
use crate::queue::{self, Enqueue};
use crate::storage::Tx;
use crate::storage::alert_edits as edits;
use crate::storage::alerts::{self as store, NewDelivery};

/// One occurrence of an event for the alert rules.
pub struct AlertEvent<'a> {
    pub workspace_id: i64,
    pub event: &'static str,
    pub severity: Severity,
    /// Names the occurrence: a rule × destination gets one delivery per key,
    /// however often the event is handed in.
    pub key: String,
    /// What cooldown compares: the same subject alerting again.
    pub fingerprint: String,
    pub run_id: Option<i64>,
    pub message: &'a AlertMessage,
}

/// A digest for a fingerprint: the subject may be longer than an index key
/// may be on PostgreSQL (a retry's scope lists every tenant id).
pub fn fingerprint(subject: &str) -> String {
    hex::encode(Sha256::digest(subject.as_bytes()))
}

/// What the rules made of an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Emitted {
    /// Deliveries queued now or deferred by quiet hours.
    pub deliveries: usize,
    /// Deliveries recorded as suppressed by cooldown.
    pub suppressed: usize,
}

/// Applies the workspace's rules for the event and queues its deliveries in
/// the caller's transaction.
pub async fn emit(
    tx: &mut Tx,
    event: &AlertEvent<'_>,
    max_attempts: i64,
    now: DateTime<Utc>,
) -> Result<Emitted> {
    let payload = serde_json::to_string(event.message).map_err(|e| Error::Internal(e.into()))?;
    let mut emitted = Emitted::default();
    for rule in store::rules_for_event(tx, event.workspace_id, event.event).await? {
        let min = Severity::parse(&rule.min_severity).unwrap_or(Severity::Low);
        if !event.severity.passes(min) {
            continue;
        }
        let cooling = rule.cooldown_seconds > 0
            && store::recently_alerted(
                tx,
                rule.id,
                &event.fingerprint,
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
        for (destination_id, enabled) in edits::rule_targets(tx, rule.id).await? {
            // A disabled destination is sent nothing; the record says why.
            let status = if enabled { status } else { "suppressed" };
            let delivery = NewDelivery {
                workspace_id: event.workspace_id,
                rule_id: Some(rule.id),
                destination_id,
                event: event.event,
                event_key: &event.key,
                fingerprint: &event.fingerprint,
                severity: event.severity.as_str(),
                run_id: event.run_id,
                payload: &payload,
                status,
                deliver_after: defer_until,
            };
            let Some(id) = store::insert_delivery(tx, &delivery, now).await? else {
                continue;
            };
            if status == "suppressed" {
                let reason = if !enabled {
                    "destination disabled".to_string()
                } else {
                    format!(
                        "cooldown: this rule alerted about the same subject less than {} ago",
                        cooldown_words(rule.cooldown_seconds)
                    )
                };
                edits::set_suppressed_reason(tx, id, &reason).await?;
                emitted.suppressed += 1;
                continue;
            }
            emitted.deliveries += 1;
            let at = defer_until.unwrap_or(now).timestamp_millis();
            let at = Enqueue {
                run_at_ms: at,
                run_id: event.run_id,
                tenant_id: None,
                max_attempts,
            };
            let job_id = queue::enqueue(tx, &DeliveryArgs { delivery_id: id }, at).await?;
            edits::link_job(tx, id, job_id).await?;
        }
    }
    Ok(emitted)
}
