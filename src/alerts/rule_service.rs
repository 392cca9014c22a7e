//! Alert rules of the workspace: add, edit, pause, delete. A rule matches
//! an event at or above its minimum severity and queues one delivery per
//! destination, within its cooldown and quiet hours.

use crate::alerts::drafts::RuleDraft;
use crate::alerts::service::{AlertService, checked};
use crate::alerts::values::{self, QuietHours, Severity};
use crate::alerts::views::{RuleRequest, RuleView};
use crate::domain::{Actor, Capability, Checked, Invalid};
use crate::error::{Error, Result};
use crate::storage::alert_edits::{self as edits, RuleChange};
use crate::storage::alerts::{self as store, RuleRow};

/// The longest cooldown: 30 days.
pub const MAX_COOLDOWN_SECONDS: i64 = 30 * 86_400;

/// A rule that passed its checks.
struct CheckedRule {
    name: String,
    event: &'static str,
    min: Severity,
    cooldown: i64,
    quiet: Option<(String, String)>,
    destination_ids: Vec<i64>,
}

fn not_found(id: i64) -> Error {
    Error::NotFound(format!("alert rule {id} does not exist"))
}

impl AlertService {
    async fn check_rule(&self, req: &RuleRequest) -> Result<Checked<CheckedRule>> {
        let name = checked!(Self::check_name(&req.name));
        let event = checked!(values::parse_event(&req.event).map_err(Invalid::at("event")));
        let min = match &req.min_severity {
            Some(s) => checked!(Severity::parse(s).map_err(Invalid::at("min_severity"))),
            None => Severity::Low,
        };
        let cooldown = req.cooldown_seconds.unwrap_or(0);
        if !(0..=MAX_COOLDOWN_SECONDS).contains(&cooldown) {
            return Ok(Err(Invalid::new(
                "cooldown",
                "the cooldown must be between 0 and 30 days (0 to 2592000 seconds)",
            )));
        }
        let quiet = match (&req.quiet_hours, &req.timezone) {
            (None, None) => None,
            (Some(w), Some(tz)) => {
                let q = checked!(QuietHours::parse(w, tz));
                Some((q.window(), q.tz.name().to_owned()))
            }
            (Some(_), None) => {
                return Ok(Err(Invalid::new(
                    "timezone",
                    "quiet hours need a time zone (an IANA name such as Europe/Berlin)",
                )));
            }
            (None, Some(_)) => {
                return Ok(Err(Invalid::new(
                    "quiet_hours",
                    "a time zone is only used with quiet hours",
                )));
            }
        };
        if req.destination_ids.is_empty() {
            return Ok(Err(Invalid::new(
                "destination",
                "a rule needs at least one destination",
            )));
        }
        let ws = self.workspace_id().await?;
        for id in &req.destination_ids {
            if store::destination(&self.db, ws, *id).await?.is_none() {
                return Ok(Err(Invalid::new(
                    "destination",
                    format!("alert destination {id} does not exist"),
                )));
            }
        }
        Ok(Ok(CheckedRule {
            name,
            event,
            min,
            cooldown,
            quiet,
            destination_ids: req.destination_ids.clone(),
        }))
    }

    /// Adds a rule from a form, as typed.
    pub async fn create_rule(&self, actor: &Actor, draft: &RuleDraft) -> Result<Checked<RuleView>> {
        let req = checked!(draft.request());
        self.insert_rule(actor, req).await
    }

    async fn insert_rule(&self, actor: &Actor, req: RuleRequest) -> Result<Checked<RuleView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let r = checked!(self.check_rule(&req).await?);
        let ws = self.workspace_id().await?;
        let now = self.clock.now();
        let id = store::insert_rule(
            &self.db,
            ws,
            &r.name,
            r.event,
            r.min.as_str(),
            r.cooldown,
            r.quiet.clone(),
            &r.destination_ids,
            now,
        )
        .await?;
        let detail = serde_json::json!({
            "name": r.name, "event": r.event, "min_severity": r.min.as_str(),
            "destination_ids": r.destination_ids,
        });
        self.audit(
            actor,
            "alert.rule.create",
            format!("alert_rule:{id}"),
            detail,
        )
        .await?;
        self.rule(actor, id).await.map(Ok)
    }

    /// Adds a rule (the CLI's door).
    pub async fn add_rule(&self, actor: &Actor, req: RuleRequest) -> Result<RuleView> {
        Ok(self.insert_rule(actor, req).await??)
    }

    /// Changes every setting of a rule, as typed; its destinations are
    /// replaced.
    pub async fn update_rule(
        &self,
        actor: &Actor,
        id: i64,
        draft: &RuleDraft,
    ) -> Result<Checked<RuleView>> {
        let req = checked!(draft.request());
        actor.require(Capability::ALERTS_MANAGE)?;
        self.rule(actor, id).await?;
        let r = checked!(self.check_rule(&req).await?);
        let ws = self.workspace_id().await?;
        let change = RuleChange {
            name: &r.name,
            event: r.event,
            min_severity: r.min.as_str(),
            cooldown_seconds: r.cooldown,
            quiet: r.quiet.clone(),
            destination_ids: &r.destination_ids,
        };
        if !edits::update_rule(&self.db, ws, id, &change).await? {
            return Err(not_found(id));
        }
        let detail = serde_json::json!({
            "name": r.name, "event": r.event, "min_severity": r.min.as_str(),
            "cooldown_seconds": r.cooldown,
            "quiet_hours": r.quiet.as_ref().map(|q| format!("{} {}", q.0, q.1)),
            "destination_ids": r.destination_ids,
        });
        self.audit(
            actor,
            "alert.rule.update",
            format!("alert_rule:{id}"),
            detail,
        )
        .await?;
        self.rule(actor, id).await.map(Ok)
    }

    /// Pauses or resumes a rule: a disabled rule matches no event.
    pub async fn set_rule_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<RuleView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !edits::set_rule_enabled(&self.db, ws, id, enabled).await? {
            return Err(not_found(id));
        }
        let action = if enabled {
            "alert.rule.enable"
        } else {
            "alert.rule.disable"
        };
        self.audit(
            actor,
            action,
            format!("alert_rule:{id}"),
            serde_json::json!({}),
        )
        .await?;
        self.rule(actor, id).await
    }

    pub async fn rules(&self, actor: &Actor) -> Result<Vec<RuleView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let links = store::rule_destinations(&self.db).await?;
        let view = |r: RuleRow| RuleView {
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
            enabled: r.enabled,
        };
        Ok(store::rules(&self.db, ws)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// One rule of the workspace.
    pub async fn rule(&self, actor: &Actor, id: i64) -> Result<RuleView> {
        self.rules(actor)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| not_found(id))
    }

    pub async fn remove_rule(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_rule(&self.db, ws, id).await? {
            return Err(not_found(id));
        }
        let subject = format!("alert_rule:{id}");
        self.audit(actor, "alert.rule.delete", subject, serde_json::json!({}))
            .await
    }
}
