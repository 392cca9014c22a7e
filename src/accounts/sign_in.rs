//! Sign-in for both planes in one flow: the limit per client ip, then the
//! throttle per ip + email (SR-003; an attempt over either never reaches the
//! password), then a hashing slot, then the password, then the audit entry.
//! The door learns who signed in, never why not.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::domain::{Actor, AuditEntry};
use crate::domain::{Email, TextKind};
use crate::error::{Error, Result};
use crate::storage::directory;
use crate::storage::{Db, accounts as store};

use super::identity::{CustomerIdentity, OperatorIdentity};
use super::password::{HashingSlots, verify_password};
use super::sessions::{self, DbSessionStore, Plane};
use super::throttle::{
    self, Refusals, Throttle, ThrottleDecision, ThrottleSubscriber, ThrottleSubscribers,
};
use super::{NewCustomerUser, NewPlatformUser};

/// The longest email kept in the audit log; longer typed input is cut.
const AUDIT_EMAIL_CHARS: usize = 254;
/// What a sign-in refused for want of a hashing slot is told to wait.
pub const BUSY_RETRY_AFTER_SECS: i64 = 5;

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
    /// Over a limit (per ip, or per ip + email): 429.
    Throttled {
        retry_after_secs: i64,
    },
    /// No hashing slot came free in time: 503, come back shortly.
    Busy {
        retry_after_secs: i64,
    },
}

impl SignInOutcome {
    /// What a refused attempt tells the visitor at `now`, and when they may
    /// try again (`Retry-After`); nothing for a sign-in that succeeded.
    pub fn refusal(&self, now: DateTime<Utc>) -> (String, Option<i64>) {
        match *self {
            SignInOutcome::SignedIn(_) => (String::new(), None),
            SignInOutcome::Failed => ("Email or password is not correct.".to_owned(), None),
            SignInOutcome::Throttled {
                retry_after_secs: secs,
            } => {
                let at = now + chrono::Duration::seconds(secs);
                let message = format!(
                    "Too many sign-in attempts. Try again in {secs} second{} (after {}).",
                    if secs == 1 { "" } else { "s" },
                    at.format("%H:%M:%S UTC")
                );
                (message, Some(secs))
            }
            SignInOutcome::Busy {
                retry_after_secs: secs,
            } => (
                format!(
                    "Sign-in is busy right now. Your password was not checked; try again in a few seconds ({secs} s)."
                ),
                Some(secs),
            ),
        }
    }
}

/// What sign-in may cost a process: slots for password verification, and
/// the attempts one client address may make a minute on one plane whatever
/// the emails. Clones share the slots.
#[derive(Debug, Clone)]
pub struct SignInLimits {
    pub hashing: HashingSlots,
    pub per_ip_per_minute: i64,
    /// Addresses this process has seen over the limit per address.
    pub refused: Refusals,
}

impl SignInLimits {
    pub const DEFAULT_PER_IP_PER_MINUTE: i64 = 30;
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            hashing: HashingSlots::default(),
            per_ip_per_minute: SignInLimits::DEFAULT_PER_IP_PER_MINUTE,
            refused: Refusals::default(),
        }
    }
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub login_attempts: u64,
}

/// A person found by email, with the hash to check (none: check the dummy).
struct Candidate<T> {
    who: Option<T>,
    hash: Option<String>,
}

/// What checking a password came to.
enum Check<T> {
    Matched(T),
    NoMatch,
    /// No hashing slot came free in time; nothing was checked.
    Busy,
}

impl<T> Check<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Check<U> {
        match self {
            Check::Matched(t) => Check::Matched(f(t)),
            Check::NoMatch => Check::NoMatch,
            Check::Busy => Check::Busy,
        }
    }
}

/// Sign-in, the signed-in people and their sessions.
#[derive(Clone)]
pub struct AccountService {
    pub(super) db: Db,
    clock: SharedClock,
    limits: SignInLimits,
    throttled: ThrottleSubscribers,
}

impl AccountService {
    pub fn new(db: Db, clock: SharedClock, limits: SignInLimits) -> AccountService {
        AccountService {
            db,
            clock,
            limits,
            throttled: ThrottleSubscribers::default(),
        }
    }

    /// The same service, telling these subscribers of each throttled key.
    pub fn with_throttle_subscribers(
        mut self,
        subscribers: Vec<Arc<dyn ThrottleSubscriber>>,
    ) -> AccountService {
        self.throttled = ThrottleSubscribers::new(subscribers);
        self
    }

    /// Creates a platform operator and audits who did.
    pub async fn create_platform_user(&self, actor: &Actor, new: NewPlatformUser) -> Result<i64> {
        let email = new.email.to_string();
        let capabilities = new.capabilities.to_stored();
        let id = super::create_platform_user(&self.db, &self.clock, new).await?;
        let detail = serde_json::json!({"email": email, "capabilities": capabilities});
        let entry = actor.audit(
            "account.platform_user.create",
            Some(format!("platform_user:{id}")),
            detail,
        );
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(id)
    }

    /// Creates a customer user of a workspace and audits who did.
    pub async fn create_customer_user(&self, actor: &Actor, new: NewCustomerUser) -> Result<i64> {
        let detail =
            serde_json::json!({"email": new.email.to_string(), "workspace": new.workspace_slug});
        let id = super::create_customer_user(&self.db, &self.clock, new).await?;
        let entry = actor.audit("account.user.create", Some(format!("user:{id}")), detail);
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(id)
    }

    /// Limit, throttle, verify, audit: the one sign-in of both planes.
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
        let attempt = Attempt { plane, email, ip };
        // A spray of different emails from one client stops here, before any
        // hashing: answered from memory while this process knows the address
        // is over its limit, and audited once a window, not per request.
        let ip_key = Throttle::ip_key(plane.as_str(), ip);
        let refused = &self.limits.refused;
        if let Some(retry_after_secs) = refused.retry_after_secs(&ip_key, self.clock.now_ms()) {
            count(plane, "throttled");
            return Ok(SignInOutcome::Throttled { retry_after_secs });
        }
        let per_ip = Throttle::per_minute(
            self.db.clone(),
            self.clock.clone(),
            self.limits.per_ip_per_minute,
        );
        if let ThrottleDecision::Throttled { retry_after_secs } = per_ip.check(&ip_key).await? {
            refused.remember(&ip_key, self.clock.now_ms(), retry_after_secs);
            count(plane, "throttled");
            if per_ip.first_refusal(&ip_key).await? {
                let detail = serde_json::json!({"limit": "ip"});
                self.audit(attempt, "throttled", None, detail).await?;
                let refused = per_ip.refused(plane, ip, ip_key, retry_after_secs, None);
                self.throttled.tell(refused).await;
            }
            return Ok(SignInOutcome::Throttled { retry_after_secs });
        }
        let throttle = Throttle::standard(self.db.clone(), self.clock.clone());
        let key = Throttle::key(plane.as_str(), ip, email);
        if let ThrottleDecision::Throttled { retry_after_secs } = throttle.check(&key).await? {
            self.record(attempt, "throttled", None).await?;
            if throttle.first_refusal(&key).await? {
                let refused = throttle.refused(plane, ip, key, retry_after_secs, Some(email));
                self.throttled.tell(refused).await;
            }
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
            Check::Busy => {
                self.record(attempt, "busy", None).await?;
                Ok(SignInOutcome::Busy {
                    retry_after_secs: BUSY_RETRY_AFTER_SECS,
                })
            }
            Check::Matched(who) => {
                let attempt = Attempt {
                    email: who.email(),
                    ..attempt
                };
                self.record(attempt, "succeeded", Some(who.id())).await?;
                Ok(SignInOutcome::SignedIn(who))
            }
            Check::NoMatch => {
                self.record(attempt, "failed", None).await?;
                Ok(SignInOutcome::Failed)
            }
        }
    }

    /// Checks the password inside a hashing slot.
    async fn verify<T>(&self, password: &str, candidate: Candidate<T>) -> Result<Check<T>> {
        let Some(slot) = self.limits.hashing.take().await else {
            return Ok(Check::Busy);
        };
        let ok = verify_password(slot, password, candidate.hash).await?;
        Ok(match candidate.who {
            Some(who) if ok => Check::Matched(who),
            _ => Check::NoMatch,
        })
    }

    /// An unknown or inactive email is verified against a dummy hash, so it
    /// costs what a wrong password costs.
    async fn check_operator(&self, email: &str, password: &str) -> Result<Check<OperatorIdentity>> {
        let user = match Email::parse(email) {
            Ok(e) => store::platform_user_by_email(&self.db, e.as_str()).await?,
            Err(_) => None,
        };
        let user = user.filter(|u| u.active);
        let candidate = Candidate {
            hash: user.as_ref().map(|u| u.password_hash.clone()),
            who: user.map(|u| OperatorIdentity::of(&u)),
        };
        self.verify(password, candidate).await
    }

    async fn check_customer(&self, email: &str, password: &str) -> Result<Check<CustomerIdentity>> {
        let user = match Email::parse(email) {
            Ok(e) => store::customer_user_by_email(&self.db, e.as_str()).await?,
            Err(_) => None,
        };
        let candidate = Candidate {
            hash: user.as_ref().map(|u| u.password_hash.clone()),
            who: user.map(|u| CustomerIdentity::of(&u)),
        };
        self.verify(password, candidate).await
    }

    /// Counts the attempt and writes its audit entry (in its own transaction).
    async fn record(
        &self,
        attempt: Attempt<'_>,
        result: &'static str,
        user_id: Option<i64>,
    ) -> Result<()> {
        count(attempt.plane, result);
        self.audit(attempt, result, user_id, serde_json::json!({}))
            .await
    }

    /// The audit entry of an attempt; the email as typed, normalized and cut
    /// to the longest an address can be.
    async fn audit(
        &self,
        Attempt { plane, email, ip }: Attempt<'_>,
        result: &'static str,
        user_id: Option<i64>,
        detail: serde_json::Value,
    ) -> Result<()> {
        let entry = AuditEntry {
            actor_kind: match plane {
                Plane::System => "platform_user",
                Plane::Admin => "user",
            }
            .into(),
            actor_id: user_id,
            actor_email: Some(
                Email::normalize_loose(email)
                    .chars()
                    .take(AUDIT_EMAIL_CHARS)
                    .collect(),
            ),
            action: format!("login.{result}"),
            subject: None,
            detail,
            ip: Some(ip.to_owned()),
        };
        directory::audit_now(&self.db, &entry, self.clock.now()).await?;
        Ok(())
    }

    /// The session store of a plane.
    pub fn sessions(&self, plane: Plane) -> DbSessionStore {
        DbSessionStore::new(self.db.clone(), plane)
    }

    /// Removes expired sessions of both planes and login attempts outside
    /// every throttle window.
    pub async fn sweep(&self) -> Result<Swept> {
        Ok(Swept {
            sessions: sessions::delete_expired(&self.db).await?,
            login_attempts: throttle::delete_expired(&self.db, &self.clock).await?,
        })
    }

    /// The key that signs the CSRF tokens of visitors who are not signed in:
    /// made once per deployment and kept in the database, so every process
    /// sharing it accepts the others' tokens.
    pub async fn form_signing_key(&self) -> Result<String> {
        let candidate = sessions::random_token();
        Ok(
            store::deployment_secret(&self.db, "form_signing_key", &candidate, self.clock.now())
                .await?,
        )
    }
}

/// Who tried to sign in to which plane, and from where: what the audit
/// entry of every attempt names.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    plane: Plane,
    email: &'a str,
    ip: &'a str,
}

/// Counts an attempt by plane and result.
fn count(plane: Plane, result: &'static str) {
    metrics::counter!(
        "tenantatlas_login_attempts_total",
        "plane" => plane.as_str(),
        "result" => result
    )
    .increment(1);
}
