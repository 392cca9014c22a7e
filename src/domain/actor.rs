//! Who is asking, with what capabilities, from where; and the audit entry
//! that records what they did.

use crate::domain::run::Initiator;
use crate::domain::{Capability, CapabilitySet};
use crate::error::Result;

/// Who is asking, with what capabilities, from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub initiator: Initiator,
    pub capabilities: CapabilitySet,
    pub ip: Option<String>,
}

impl Actor {
    /// Whoever runs the CLI or the deploy hook holds the database credentials
    /// and so every capability.
    pub fn trusted(initiator: Initiator) -> Actor {
        Actor {
            initiator,
            capabilities: CapabilitySet::all(),
            ip: None,
        }
    }

    pub fn require(&self, c: Capability) -> Result<()> {
        self.capabilities.require(c)
    }

    /// Operators in the console must give a reason; scripts may.
    pub fn reason_required(&self) -> bool {
        matches!(self.initiator, Initiator::PlatformUser { .. })
    }

    /// The audit entry of something this actor did.
    pub fn audit(
        &self,
        action: &str,
        subject: Option<String>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        let (kind, id, email) = match &self.initiator {
            Initiator::PlatformUser { id, email } => {
                ("platform_user", Some(*id), Some(email.clone()))
            }
            Initiator::Cli { .. } => ("cli", None, None),
            Initiator::Deploy { .. } => ("deploy", None, None),
        };
        AuditEntry {
            actor_kind: kind.into(),
            actor_id: id,
            actor_email: email,
            action: action.into(),
            subject,
            detail,
            ip: self.ip.clone(),
        }
    }
}

/// An audit entry: who did what, to what, from where.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_email: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn system(action: &str, subject: String) -> AuditEntry {
        AuditEntry {
            actor_kind: "system".into(),
            actor_id: None,
            actor_email: None,
            action: action.into(),
            subject: Some(subject),
            detail: serde_json::json!({}),
            ip: None,
        }
    }
}
