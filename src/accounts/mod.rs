//! People who sign in: platform operators (`/system`) and customer users
//! (`/admin`). Password hashing (Argon2id), one sign-in for both planes that
//! takes as long for an unknown email as for a wrong password, login
//! throttling (SR-003) and a limit per client address, bounded hashing, and
//! the sessions of both planes.

pub mod identity;
pub mod password;
pub mod sessions;
pub mod sign_in;
pub mod throttle;

use crate::clock::SharedClock;
use crate::domain::{CapabilitySet, Email};
use crate::error::{Error, Result};
use crate::storage::{Db, accounts as store};

pub use identity::{CustomerIdentity, OperatorIdentity};
pub use password::{HashingSlots, Password, hash_password, verify_password};
pub use sessions::{DbSessionStore, Plane};
pub use sign_in::{AccountService, SignInLimits, SignInOutcome, SignedIn, Swept};
pub use throttle::{Refusals, Throttle, ThrottleDecision};

/// A new platform operator, checked before anything is written.
pub struct NewPlatformUser {
    pub email: Email,
    pub name: String,
    pub password: Password,
    pub capabilities: CapabilitySet,
}

/// Checks a display name: not blank, no control characters, bounded.
pub fn parse_name(raw: &str) -> std::result::Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("the name must not be empty".into());
    }
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("the name must be at most 200 characters without control characters".into());
    }
    Ok(name.to_owned())
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

/// Creates the operator or, when it exists, gives it this password and every
/// capability (`serve --demo`).
pub async fn upsert_platform_user(
    db: &Db,
    clock: &SharedClock,
    new: NewPlatformUser,
) -> Result<i64> {
    let hash = hash_password(new.password).await?;
    match store::platform_user_by_email(db, new.email.as_str()).await? {
        Some(u) => {
            store::reset_platform_user(db, u.id, &hash, &new.capabilities.to_stored()).await?;
            Ok(u.id)
        }
        None => Ok(store::insert_platform_user(
            db,
            new.email.as_str(),
            &new.name,
            &hash,
            &new.capabilities.to_stored(),
            clock.now(),
        )
        .await?),
    }
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
    let ws = crate::storage::directory::workspace_by_slug(db, new.workspace_slug.trim())
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!("unknown workspace {:?}", new.workspace_slug.trim()))
        })?;
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
