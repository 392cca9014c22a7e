//! Who is signed in, as the doors see them: name, email, capabilities or
//! workspace, and never the password hash.

use crate::domain::run::Initiator;
use crate::domain::{Actor, Capability, CapabilitySet};
use crate::storage::accounts::{CustomerUser, PlatformUser};

/// A signed-in platform operator (`/system`).
#[derive(Debug, Clone)]
pub struct OperatorIdentity {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub capabilities: CapabilitySet,
}

impl OperatorIdentity {
    pub(crate) fn of(user: &PlatformUser) -> OperatorIdentity {
        OperatorIdentity {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            capabilities: CapabilitySet::from_stored(&user.capabilities),
        }
    }

    pub fn can(&self, c: Capability) -> bool {
        self.capabilities.has(c)
    }

    /// The operator as the services' actor, acting from `ip`.
    pub fn actor(&self, ip: &str) -> Actor {
        Actor {
            initiator: Initiator::PlatformUser {
                id: self.id,
                email: self.email.clone(),
            },
            capabilities: self.capabilities.clone(),
            ip: Some(ip.to_owned()),
        }
    }
}

/// A signed-in customer user (`/admin`), a member of one workspace.
#[derive(Debug, Clone)]
pub struct CustomerIdentity {
    pub id: i64,
    pub workspace_id: i64,
    pub email: String,
    pub name: String,
}

impl CustomerIdentity {
    pub(crate) fn of(user: &CustomerUser) -> CustomerIdentity {
        CustomerIdentity {
            id: user.id,
            workspace_id: user.workspace_id,
            email: user.email.clone(),
            name: user.name.clone(),
        }
    }
}
