//! What happens when a run completes: the initiator's notification and the
//! alert dispatcher, both subscribers of the run service's completion. A run
//! that succeeded after its runbook and scope had failed says so in both.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::alerts::AlertSettings;
use crate::alerts::intake::{self, AlertEvent, fingerprint};
use crate::alerts::message::{AlertMessage, outcome_words};
use crate::alerts::values::{RUN_FAILED_EVENT, RUN_RECOVERED_EVENT, Severity};
use crate::domain::figures::count;
use crate::error::{Error, Result};
use crate::runs::{Initiator, Outcome, Run, RunCompletionSubscriber};
use crate::storage::alerts as store;
use crate::storage::{Tx, notifications};

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
            "{} · {} items updated, {} skipped, {} failed",
            run.progress.sentence(),
            count(c.items_updated),
            count(c.items_skipped),
            count(c.items_failed)
        );
        let recovered = recovered_from(tx, run).await?;
        let mut body = serde_json::json!({
            "run_id": run.id,
            "runbook": run.run_type,
            "outcome": run.outcome,
            "summary": summary,
            "summary_counts": c,
            "progress": run.progress,
        });
        let mut title = format!(
            "Run {} {}: {}",
            run.id,
            outcome_words(run.outcome),
            run.run_type
        );
        if let Some((previous_id, previous)) = recovered {
            title = format!(
                "Run {} recovered: {} succeeded after run {previous_id} {}",
                run.id,
                run.run_type,
                outcome_words(previous)
            );
            body["recovered_from"] = serde_json::json!({
                "run_id": previous_id,
                "outcome": previous,
                "url": format!("/system/runs/{previous_id}"),
            });
        }
        notifications::insert(
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

/// Applies the workspace's alert rules to a completed run: a failed or
/// partially failed run emits `operation_run.failed`; a run that succeeded
/// where the previous run of its runbook and scope had not emits
/// `operation_run.recovered`.
pub struct AlertDispatcher {
    pub settings: Arc<AlertSettings>,
    /// Attempts of a delivery job.
    pub max_attempts: i64,
}

#[async_trait]
impl RunCompletionSubscriber for AlertDispatcher {
    async fn run_completed(&self, tx: &mut Tx, run: &Run, now: DateTime<Utc>) -> Result<()> {
        let Some(workspace_id) = run.workspace_id else {
            return Ok(());
        };
        let public_url = &self.settings.public_url;
        let (event, severity, message) = match run.outcome {
            Outcome::Failed | Outcome::PartiallySucceeded => {
                let severity = if run.outcome == Outcome::Failed {
                    Severity::Critical
                } else {
                    Severity::High
                };
                let message = AlertMessage::for_run(run, severity, public_url);
                (RUN_FAILED_EVENT, severity, message)
            }
            Outcome::Succeeded => match recovered_from(tx, run).await? {
                Some((previous_id, previous)) => {
                    let message =
                        AlertMessage::for_recovery(run, previous_id, previous, public_url);
                    (RUN_RECOVERED_EVENT, Severity::Info, message)
                }
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        let scope =
            serde_json::to_string(&run.context.scope).map_err(|e| Error::Internal(e.into()))?;
        let alert = AlertEvent {
            workspace_id,
            event,
            severity,
            key: format!("{event}:run:{}", run.id),
            fingerprint: fingerprint(&format!("{}|{scope}", run.run_type)),
            run_id: Some(run.id),
            message: &message,
        };
        intake::emit(tx, &alert, self.max_attempts, now).await?;
        Ok(())
    }
}

/// The run a succeeded run recovered from: the previous completed run of its
/// runbook and scope (its run identity), when that one failed or partially
/// succeeded. Completion happens once per run, so this is found once.
pub async fn recovered_from(tx: &mut Tx, run: &Run) -> Result<Option<(i64, Outcome)>> {
    if run.outcome != Outcome::Succeeded {
        return Ok(None);
    }
    let Some((id, outcome)) = store::previous_completed_run(tx, run.id).await? else {
        return Ok(None);
    };
    Ok(match Outcome::parse(&outcome) {
        Some(o @ (Outcome::Failed | Outcome::PartiallySucceeded)) => Some((id, o)),
        _ => None,
    })
}
