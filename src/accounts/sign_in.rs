//! Sign-in for both planes in one flow: the throttle first (SR-003: an
//! attempt over the limit never reaches the password), then the password,
//! then the audit entry. The door learns who signed in, never why not.

use crate::clock::SharedClock;
use crate::domain::AuditEntry;
use crate::domain::{Email, TextKind};
use crate::error::{Error, Result};
use crate::storage::directory;
use crate::storage::{Db, accounts as store};

use super::identity::{CustomerIdentity, OperatorIdentity};
use super::password::verify_password;
use super::sessions::{self, DbSessionStore, Plane};
use super::throttle::{Throttle, ThrottleDecision};

/// Whoever signed in, by plane.
#[derive(Debug, Clone)]
pub enum SignedIn {
    Operator(OperatorIdentity),
    Customer(CustomerIdentity),
}

impl SignedIn {
    pub fn id(&self) -> i64 {
        match self {
            SignedIn::Operator(o) => o.id,
            SignedIn::Customer(c) => c.id,
        }
    }

    pub fn email(&self) -> &str {
        match self {
            SignedIn::Operator(o) => &o.email,
            SignedIn::Customer(c) => &c.email,
        }
    }
}

/// What a sign-in attempt came to. Every failure is the same `Failed`, so
/// nobody learns which of email or password was wrong.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    SignedIn(SignedIn),
    Failed,
    Throttled { retry_after_secs: i64 },
}

/// Sign-in, the signed-in people and their sessions.
#[derive(Clone)]
pub struct AccountService {
    db: Db,
    clock: SharedClock,
}

impl AccountService {
    pub fn new(db: Db, clock: SharedClock) -> AccountService {
        AccountService { db, clock }
    }

    /// Throttle, verify, audit: the one sign-in of both planes.
    pub async fn sign_in(
        &self,
        plane: Plane,
        ip: &str,
        email: &str,
        password: &str,
    ) -> Result<SignInOutcome> {
        // What no account can have (control characters, over-long text) is
        // bad input, refused before the throttle counts it or the audit log
        // records it: such a request writes nothing.
        TextKind::EMAIL
            .check("email", email)
            .and_then(|_| TextKind::PASSWORD.check("password", password))
            .map_err(Error::BadInput)?;
        let throttle = Throttle::standard(self.db.clone(), self.clock.clone());
        let key = Throttle::key(plane.as_str(), ip, email);
        if let ThrottleDecision::Throttled { retry_after_secs } = throttle.check(&key).await? {
            self.record(plane, "throttled", email, ip, None).await?;
            return Ok(SignInOutcome::Throttled { retry_after_secs });
        }
        let found = match plane {
            Plane::System => self
                .check_operator(email, password)
                .await?
                .map(SignedIn::Operator),
            Plane::Admin => self
                .check_customer(email, password)
                .await?
                .map(SignedIn::Customer),
        };
        match found {
            Some(who) => {
                self.record(plane, "succeeded", who.email(), ip, Some(who.id()))
                    .await?;
                Ok(SignInOutcome::SignedIn(who))
            }
            None => {
                self.record(plane, "failed", email, ip, None).await?;
                Ok(SignInOutcome::Failed)
            }
        }
    }

    /// An unknown or inactive email is verified against a dummy hash, so it
    /// costs what a wrong password costs.
    async fn check_operator(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<OperatorIdentity>> {
        let user = match Email::parse(email) {
            Ok(e) => store::platform_user_by_email(&self.db, e.as_str()).await?,
            Err(_) => None,
        };
        let hash = user
            .as_ref()
            .filter(|u| u.active)
            .map(|u| u.password_hash.clone());
        let ok = verify_password(password, hash).await?;
        Ok(user
            .filter(|u| ok && u.active)
            .map(|u| OperatorIdentity::of(&u)))
    }

    async fn check_customer(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Option<CustomerIdentity>> {
        let user = match Email::parse(email) {
            Ok(e) => store::customer_user_by_email(&self.db, e.as_str()).await?,
            Err(_) => None,
        };
        let ok = verify_password(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        Ok(user.filter(|_| ok).map(|u| CustomerIdentity::of(&u)))
    }

    /// Counts the attempt and writes its audit entry (in its own transaction).
    async fn record(
        &self,
        plane: Plane,
        result: &'static str,
        email: &str,
        ip: &str,
        user_id: Option<i64>,
    ) -> Result<()> {
        metrics::counter!(
            "tenantatlas_login_attempts_total",
            "plane" => plane.as_str(),
            "result" => result
        )
        .increment(1);
        let entry = AuditEntry {
            actor_kind: match plane {
                Plane::System => "platform_user",
                Plane::Admin => "user",
            }
            .into(),
            actor_id: user_id,
            actor_email: Some(Email::normalize_loose(email)),
            action: format!("login.{result}"),
            subject: None,
            detail: serde_json::json!({}),
            ip: Some(ip.to_owned()),
        };
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(())
    }

    /// The active operator with this id, if any.
    pub async fn operator(&self, id: i64) -> Result<Option<OperatorIdentity>> {
        Ok(store::platform_user(&self.db, id)
            .await?
            .filter(|u| u.active)
            .map(|u| OperatorIdentity::of(&u)))
    }

    /// The customer user with this id, if any.
    pub async fn customer(&self, id: i64) -> Result<Option<CustomerIdentity>> {
        Ok(store::customer_user(&self.db, id)
            .await?
            .map(|u| CustomerIdentity::of(&u)))
    }

    /// The session store of a plane.
    pub fn sessions(&self, plane: Plane) -> DbSessionStore {
        DbSessionStore::new(self.db.clone(), plane)
    }

    /// Removes expired sessions of both planes.
    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        sessions::delete_expired(&self.db).await
    }
}
