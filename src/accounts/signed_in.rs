//! Who is signed in to a session: the session's row and its person's row
//! read in one statement, so a request learns who asks in one round trip.

use super::identity::{CustomerIdentity, OperatorIdentity};
use super::sessions::{Plane, key_of_cookie, now_ms};
use super::sign_in::{AccountService, SignedIn};
use crate::error::Result;
use crate::storage::accounts;

impl AccountService {
    /// Whoever is signed in to the live session of `plane` that a cookie
    /// value names, read together with the session in one statement: an
    /// active operator for `/system`, a customer user for `/admin`. None for
    /// a value that names no such session.
    pub async fn signed_in_by_cookie(
        &self,
        plane: Plane,
        cookie_value: &str,
    ) -> Result<Option<SignedIn>> {
        let Some(key) = key_of_cookie(cookie_value) else {
            return Ok(None);
        };
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
