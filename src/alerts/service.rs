//! Alert destinations of the workspace, for every door: add, edit, pause,
//! delete. Rules are in [`super::rule_service`], deliveries in
//! [`super::delivery_service`]. A form's mistakes come back as [`Invalid`]
//! naming the field; the CLI reads them as plain bad input.

use std::sync::Arc;

use crate::alerts::AlertSettings;
use crate::alerts::channels::Sender;
use crate::alerts::drafts::DestinationDraft;
use crate::alerts::values::Channel;
use crate::alerts::views::{DestinationRequest, DestinationView};
use crate::clock::SharedClock;
use crate::domain::{Actor, Capability, Checked, Invalid, TextKind};
use crate::error::{Error, Result};
use crate::storage::alert_edits as edits;
use crate::storage::alerts::{self as store, DestinationRow};
use crate::storage::{Db, directory};

/// Attempts of a delivery job when the assembly sets none.
const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Alert destinations and rules of the workspace, for every door.
#[derive(Clone)]
pub struct AlertService {
    pub(super) db: Db,
    pub(super) clock: SharedClock,
    pub(super) sender: Sender,
    /// Attempts of a delivery retried by hand.
    pub(super) max_attempts: i64,
}

/// Unwraps a checked step inside a method answering `Result<Checked<T>>`.
macro_rules! checked {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(invalid) => return Ok(Err(invalid)),
        }
    };
}
pub(super) use checked;

impl AlertService {
    pub fn new(db: Db, clock: SharedClock, sender: Sender) -> AlertService {
        AlertService {
            db,
            clock,
            sender,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The attempts a delivery retried by hand gets.
    pub fn with_max_attempts(mut self, max_attempts: i64) -> AlertService {
        self.max_attempts = max_attempts.max(1);
        self
    }

    pub(super) fn settings(&self) -> &Arc<AlertSettings> {
        &self.sender.alerts
    }

    pub(super) async fn audit(
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

    pub(super) async fn workspace_id(&self) -> Result<i64> {
        Ok(directory::default_workspace(&self.db).await?.id)
    }

    pub(super) fn check_name(name: &str) -> Checked<String> {
        Ok(TextKind::NAME
            .require("name", name)
            .map_err(Invalid::at("name"))?
            .to_owned())
    }

    /// Why an email destination cannot be sent to now, if it cannot.
    fn warning(&self, kind: &str) -> Option<String> {
        (kind == "email" && self.settings().smtp_url.is_none()).then(|| {
            "SMTP_URL is not set on the server: nothing is sent to email destinations until it is"
                .to_string()
        })
    }

    /// What the email form warns of while `SMTP_URL` is not set.
    pub fn email_warning(&self) -> Option<String> {
        self.warning("email")
    }

    fn view(&self, d: DestinationRow) -> DestinationView {
        DestinationView {
            target: serde_json::from_str::<Channel>(&d.config)
                .map(|c| c.masked_target())
                .unwrap_or_default(),
            warning: self.warning(&d.kind),
            id: d.id,
            name: d.name,
            kind: d.kind,
            created_at: d.created_at,
            enabled: d.enabled,
        }
    }

    /// The channel a form describes; `keep` is the saved one an empty URL keeps.
    async fn channel_of(
        &self,
        req: &DestinationRequest,
        keep: Option<&Channel>,
    ) -> Checked<Channel> {
        let kind = TextKind::IDENTIFIER
            .check("type", &req.kind)
            .map_err(Invalid::at("kind"))?;
        let channel = match kind {
            "teams" => match (req.url.trim(), keep) {
                ("", Some(saved @ Channel::Teams { .. })) => return Ok(saved.clone()),
                ("", _) => {
                    return Err(Invalid::new(
                        "url",
                        "a Teams destination needs its webhook URL",
                    ));
                }
                (url, _) => Channel::teams(url).map_err(Invalid::at("url"))?,
            },
            "email" => Channel::email(&req.recipients).map_err(Invalid::at("recipients"))?,
            other => {
                return Err(Invalid::new(
                    "kind",
                    format!("unknown destination type {other:?}: use teams or email"),
                ));
            }
        };
        if let Channel::Teams { url } = &channel {
            self.settings()
                .webhook_policy
                .check(url)
                .await
                .map_err(Invalid::at("url"))?;
        }
        Ok(channel)
    }

    /// Adds a destination from a form, as typed.
    pub async fn create_destination(
        &self,
        actor: &Actor,
        draft: &DestinationDraft,
    ) -> Result<Checked<DestinationView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let req = &draft.request();
        let name = checked!(Self::check_name(&req.name));
        let channel = checked!(self.channel_of(req, None).await);
        self.insert_destination(actor, name, channel).await.map(Ok)
    }

    /// Adds a destination (the CLI's door: the channel parsed already).
    pub async fn add_destination(
        &self,
        actor: &Actor,
        name: &str,
        channel: Channel,
    ) -> Result<DestinationView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let name = Self::check_name(name)?;
        if let Channel::Teams { url } = &channel {
            let policy = &self.settings().webhook_policy;
            policy.check(url).await.map_err(Error::BadInput)?;
        }
        self.insert_destination(actor, name, channel).await
    }

    async fn insert_destination(
        &self,
        actor: &Actor,
        name: String,
        channel: Channel,
    ) -> Result<DestinationView> {
        let ws = self.workspace_id().await?;
        let config = serde_json::to_string(&channel).map_err(|e| Error::Internal(e.into()))?;
        let now = self.clock.now();
        let id =
            store::insert_destination(&self.db, ws, &name, channel.kind(), &config, now).await?;
        let detail = serde_json::json!({
            "name": name, "type": channel.kind(), "target": channel.masked_target(),
        });
        let subject = format!("alert_destination:{id}");
        self.audit(actor, "alert.destination.create", subject, detail)
            .await?;
        self.destination(actor, id).await
    }

    /// Changes a destination's name and target; an empty URL keeps a Teams
    /// destination's saved webhook.
    pub async fn update_destination(
        &self,
        actor: &Actor,
        id: i64,
        draft: &DestinationDraft,
    ) -> Result<Checked<DestinationView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let req = &draft.request();
        let ws = self.workspace_id().await?;
        let saved = self.row(ws, id).await?;
        let saved_channel: Channel =
            serde_json::from_str(&saved.config).map_err(|e| Error::Internal(e.into()))?;
        let name = checked!(Self::check_name(&req.name));
        let channel = checked!(self.channel_of(req, Some(&saved_channel)).await);
        if channel.kind() != saved.kind {
            return Ok(Err(Invalid::new(
                "kind",
                "a destination keeps its type: add a new one instead",
            )));
        }
        let config = serde_json::to_string(&channel).map_err(|e| Error::Internal(e.into()))?;
        if !edits::update_destination(&self.db, ws, id, &name, &config).await? {
            return Err(not_found(id));
        }
        let detail = serde_json::json!({
            "name": name, "target": channel.masked_target(),
            "url_changed": channel != saved_channel && channel.kind() == "teams",
        });
        let subject = format!("alert_destination:{id}");
        self.audit(actor, "alert.destination.update", subject, detail)
            .await?;
        self.destination(actor, id).await.map(Ok)
    }

    /// Pauses or resumes a destination: a disabled one is sent nothing.
    pub async fn set_destination_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !edits::set_destination_enabled(&self.db, ws, id, enabled).await? {
            return Err(not_found(id));
        }
        let action = if enabled {
            "alert.destination.enable"
        } else {
            "alert.destination.disable"
        };
        let subject = format!("alert_destination:{id}");
        self.audit(actor, action, subject, serde_json::json!({}))
            .await?;
        self.destination(actor, id).await
    }

    async fn row(&self, ws: i64, id: i64) -> Result<DestinationRow> {
        store::destination(&self.db, ws, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    pub async fn destinations(&self, actor: &Actor) -> Result<Vec<DestinationView>> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        let rows = store::destinations(&self.db, ws).await?;
        Ok(rows.into_iter().map(|d| self.view(d)).collect())
    }

    /// One destination of the workspace, its URL masked.
    pub async fn destination(&self, actor: &Actor, id: i64) -> Result<DestinationView> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        Ok(self.view(self.row(ws, id).await?))
    }

    pub async fn remove_destination(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require(Capability::ALERTS_MANAGE)?;
        let ws = self.workspace_id().await?;
        if !store::delete_destination(&self.db, ws, id).await? {
            return Err(not_found(id));
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
}

pub(super) fn not_found(id: i64) -> Error {
    Error::NotFound(format!("alert destination {id} does not exist"))
}
