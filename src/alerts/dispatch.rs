//! What happens when a run completes: the initiator's notification and the
//! alert dispatcher, both subscribers of the run service's completion.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::alerts::AlertSettings;
use crate::alerts::delivery::DELIVERY_JOB;
use crate::alerts::message::{AlertMessage, outcome_words};
use crate::alerts::rules::{QuietHours, RUN_FAILED_EVENT, Severity, cooldown_words};
use crate::error::{Error, Result};
use crate::runs::{Initiator, Outcome, Run, RunCompletionSubscriber};
use crate::storage::Tx;
use crate::storage::alert_edits as edits;
use crate::storage::alerts::{self as store, NewDelivery};
use crate::storage::queue as q;

/// The initiator's in-app notification (`operation_run.completed`), for a
/// platform initiator; runs of the CLI and the deploy hook have nobody to
/// notify.
pub struct InitiatorNotifier;

#[async_trait]
impl RunCompletionSubscriber for InitiatorNotifier {
    async fn run_completed(&self, tx: &mut Tx, run: &Run, now: DateTime<Utc>) -> Result<()> {
        let Initiator::PlatformUser { id, .. } = &run.context.initiator else {
            return Ok(());
        };
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
        Ok(())
    }
}

/// Applies the workspace's alert rules to a failed or partially failed run
/// and queues one delivery per rule × destination.
pub struct AlertDispatcher {
    pub settings: Arc<AlertSettings>,
    /// Attempts of a delivery job.
    pub max_attempts: i64,
}

#[async_trait]
impl RunCompletionSubscriber for AlertDispatcher {
    async fn run_completed(&self, tx: &mut Tx, run: &Run, now: DateTime<Utc>) -> Result<()> {
        let max_attempts = self.max_attempts;
        let severity = match run.outcome {
            Outcome::Failed => Severity::Critical,
            Outcome::PartiallySucceeded => Severity::High,
            _ => return Ok(()),
        };
        let Some(workspace_id) = run.workspace_id else {
            return Ok(());
        };
        let message = AlertMessage::for_run(run, severity, &self.settings.public_url);
        let payload = serde_json::to_string(&message).map_err(|e| Error::Internal(e.into()))?;
        let scope =
            serde_json::to_string(&run.context.scope).map_err(|e| Error::Internal(e.into()))?;
        // A digest: a retry's scope lists every tenant id, longer than an
        // index key may be on PostgreSQL.
        let fingerprint = hex::encode(Sha256::digest(format!("{}|{scope}", run.run_type)));
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
            for (destination_id, enabled) in edits::rule_targets(tx, rule.id).await? {
                // A disabled destination is sent nothing; the record says why.
                let status = if enabled { status } else { "suppressed" };
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
                    let job_id =
                        q::enqueue(tx, DELIVERY_JOB, Some(run.id), None, &job, at, max_attempts)
                            .await?;
                    edits::link_job(tx, id, job_id).await?;
                } else {
                    let reason = if !enabled {
                        "destination disabled".to_string()
                    } else {
                        format!(
                            "cooldown: this rule alerted about the same runbook and scope less than {} ago",
                            cooldown_words(rule.cooldown_seconds)
                        )
                    };
                    edits::set_suppressed_reason(tx, id, &reason).await?;
                }
            }
        }
        Ok(())
    }
}
