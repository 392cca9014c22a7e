//! Who is signed in to a session: the session's row and its person's row
//! read in one statement, so a request learns who asks in one round trip.

use tower_sessions::session::Id;

use super::identity::{CustomerIdentity, OperatorIdentity};
use super::sessions::{Plane, key, now_ms};
use super::sign_in::{AccountService, SignedIn};
use crate::error::Result;
use crate::storage::accounts;

impl AccountService {
    /// Whoever is signed in to the live session `id` of `plane`, read
    /// together with the session in one statement: an active operator for
    /// `/system`, a customer user for `/admin`. None when no such session is
    /// live or no one is signed in to it.
    pub async fn signed_in_to(&self, plane: Plane, id: &Id) -> Result<Option<SignedIn>> {
        let key = key(id);
        let now = now_ms();
        Ok(match plane {
            Plane::System => accounts::platform_user_of_session(&self.db, &key, now)
                .await?
                .filter(|u| u.active)
                .map(|u| SignedIn::Operator(OperatorIdentity::of(&u))),
            Plane::Admin => accounts::customer_user_of_session(&self.db, &key, now)
                .await?
                .map(|u| SignedIn::Customer(CustomerIdentity::of(&u))),
        })
    }
}
