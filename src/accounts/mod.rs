//! People who sign in: platform operators (`/system`) and customer users
//! (`/admin`). Password hashing (Argon2id), one sign-in for both planes that
//! takes as long for an unknown email as for a wrong password, login
//! throttling (SR-003) and a limit per client address, bounded hashing,
//! the sessions of both planes and the tokens that guard their forms.

pub mod form_tokens;
pub mod identity;
pub mod password;
pub mod sessions;
pub mod sign_in;
pub mod signed_in;
pub mod throttle;

use crate::clock::SharedClock;
use crate::domain::{CapabilitySet, Email, TextKind};
use crate::error::{Error, Result};
use crate::storage::{Db, accounts as store};

pub use form_tokens::{FormKey, SecretKey};
pub use identity::{CustomerIdentity, OperatorIdentity};
pub use password::{HashingSlots, Password, hash_password, verify_password};
pub use sessions::{DbSessionStore, Plane};
pub use sign_in::{AccountService, SignInLimits, SignInOutcome, SignedIn, Swept};
pub use throttle::{
    LoginThrottled, Refusals, Throttle, ThrottleDecision, ThrottleSubscriber, ThrottleSubscribers,
    mask_email,
};

/// A new platform operator, checked before anything is written.
pub struct NewPlatformUser {
    pub email: Email,
    pub name: String,
    pub password: Password,
    pub capabilities: CapabilitySet,
}

/// Checks a display name by the rule of names: not blank, no control
/// characters, bounded.
pub fn parse_name(raw: &str) -> std::result::Result<String, String> {
    Ok(TextKind::NAME.require("name", raw)?.to_owned())
}

/// Checks a workspace slug as typed (`user create --workspace`).
pub fn parse_workspace_slug(raw: &str) -> std::result::Result<String, String> {
    Ok(TextKind::IDENTIFIER.require("workspace", raw)?.to_owned())
}

pub async fn create_platform_user(
    db: &Db,
    clock: &SharedClock,
    new: NewPlatformUser,
) -> Result<i64> {
    if store::platform_user_by_email(db, new.email.as_str())
        .await?
        .is_some()
    {
        return Err(Error::Conflict(format!(
            "a platform user with email {} already exists",
            new.email
        )));
    }
    insert_platform_user(db, clock, new).await
}

/// Creates the operator or, when it exists, gives it this password and every
/// capability (`serve --demo`).
pub async fn upsert_platform_user(
    db: &Db,
    clock: &SharedClock,
    new: NewPlatformUser,
) -> Result<i64> {
    match store::platform_user_by_email(db, new.email.as_str()).await? {
        Some(u) => {
            let hash = hash_password(new.password).await?;
            store::reset_platform_user(db, u.id, &hash, &new.capabilities.to_stored()).await?;
            Ok(u.id)
        }
        None => insert_platform_user(db, clock, new).await,
    }
}

/// Hashes the password and inserts the operator; its id.
async fn insert_platform_user(db: &Db, clock: &SharedClock, new: NewPlatformUser) -> Result<i64> {
    let hash = hash_password(new.password).await?;
    Ok(store::insert_platform_user(
        db,
        new.email.as_str(),
        &new.name,
        &hash,
        &new.capabilities.to_stored(),
        clock.now(),
    )
    .await?)
}

pub struct NewCustomerUser {
    pub email: Email,
    pub name: String,
    pub password: Password,
    pub workspace_slug: String,
}

pub async fn create_customer_user(
    db: &Db,
    clock: &SharedClock,
    new: NewCustomerUser,
) -> Result<i64> {
    let slug = parse_workspace_slug(&new.workspace_slug).map_err(Error::BadInput)?;
    let ws = crate::storage::directory::workspace_by_slug(db, &slug)
        .await?
        .ok_or_else(|| Error::Unknown(format!("workspace: unknown workspace {slug:?}")))?;
    if store::customer_user_by_email(db, new.email.as_str())
        .await?
        .is_some()
    {
        return Err(Error::Conflict(format!(
            "a user with email {} already exists",
            new.email
        )));
    }
    let hash = hash_password(new.password).await?;
    Ok(
        store::insert_customer_user(db, ws.id, new.email.as_str(), &new.name, &hash, clock.now())
            .await?,
    )
}
