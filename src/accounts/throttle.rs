//! Login throttling, counted in the database so several server processes
//! sharing it enforce one limit: SR-003's limit per client ip + normalized
//! email, and a limit per client ip whatever the email, which holds back a
//! spray of different emails before any password is checked.
//!
//! Keys are stored as SHA-256 digests: the table holds no email, and a key
//! has the same size however long the typed email was.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::sessions::Plane;
use crate::clock::SharedClock;
use crate::domain::Email;
use crate::error::Result;
use crate::storage::{Db, accounts as store};

/// Every throttle counts attempts over one minute; rows older than this
/// count for nothing and are swept.
pub const WINDOW_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// The attempt is counted; go on and check the password.
    Allowed,
    /// Over the limit: answer 429 without checking the password.
    Throttled { retry_after_secs: i64 },
}

/// A sign-in key refused for the first time in its window: what the alert
/// rules hear of it. It carries no password and the email only masked.
#[derive(Debug, Clone)]
pub struct LoginThrottled {
    pub plane: Plane,
    pub ip: String,
    /// Which limit refused: `ip` (any email) or `ip_email`.
    pub limit: &'static str,
    /// Attempts the limit allows a window.
    pub attempts_allowed: i64,
    /// The typed email masked (`o…@example.test`); none for the ip limit.
    pub email_masked: Option<String>,
    /// The throttle key (a digest), naming the key that was refused.
    pub key: String,
    pub retry_after_secs: i64,
    pub at: DateTime<Utc>,
}

/// Told of each throttled sign-in key once per window (the alert rules,
/// registered by the assembly: accounts know nothing of alerts).
#[async_trait]
pub trait ThrottleSubscriber: Send + Sync {
    async fn login_throttled(&self, event: &LoginThrottled) -> Result<()>;
}

/// The subscribers the assembly registered; clones share them.
#[derive(Clone, Default)]
pub struct ThrottleSubscribers(Arc<Vec<Arc<dyn ThrottleSubscriber>>>);

impl ThrottleSubscribers {
    pub fn new(subscribers: Vec<Arc<dyn ThrottleSubscriber>>) -> ThrottleSubscribers {
        ThrottleSubscribers(Arc::new(subscribers))
    }

    /// Tells each subscriber of a key refused for the first time in its
    /// window. The sign-in's answer does not depend on them: a failure is
    /// logged, and the refusal stands.
    pub async fn tell(&self, event: LoginThrottled) {
        for subscriber in self.0.iter() {
            if let Err(e) = subscriber.login_throttled(&event).await {
                tracing::error!(error = %e, plane = event.plane.as_str(), "a throttled sign-in was not handed on");
            }
        }
    }
}

/// An email as an alert may show it: the first character of the local part
/// and the domain (`o…@example.test`), cut to a bounded length.
pub fn mask_email(typed: &str) -> String {
    let normalized = Email::normalize_loose(typed);
    let (local, domain) = match normalized.rsplit_once('@') {
        Some((local, domain)) => (local, domain),
        None => (normalized.as_str(), ""),
    };
    let first: String = local.chars().take(1).collect();
    let domain: String = domain.chars().take(100).collect();
    if domain.is_empty() {
        format!("{first}…")
    } else {
        format!("{first}…@{domain}")
    }
}

#[derive(Clone)]
pub struct Throttle {
    db: Db,
    clock: SharedClock,
    pub limit: i64,
    pub window_ms: i64,
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The part of a client address one client controls: an IPv4 address, or
/// the /64 of an IPv6 address (one subscriber usually holds a whole /64).
fn client_prefix(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(IpAddr::V6(v6)) => v6.to_canonical().to_string(),
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

impl Throttle {
    /// 10 attempts a minute per ip + email (SR-003).
    pub fn standard(db: Db, clock: SharedClock) -> Throttle {
        Throttle::per_minute(db, clock, 10)
    }

    /// `limit` attempts a minute per key.
    pub fn per_minute(db: Db, clock: SharedClock, limit: i64) -> Throttle {
        Throttle {
            db,
            clock,
            limit: limit.max(1),
            window_ms: WINDOW_MS,
        }
    }

    /// The key of SR-003: a digest of plane, client ip and the email as
    /// typed, trimmed and lower-cased.
    pub fn key(plane: &str, ip: &str, email: &str) -> String {
        digest(&format!(
            "email|{plane}|{ip}|{}",
            Email::normalize_loose(email)
        ))
    }

    /// The key of the limit per client: a digest of plane and client
    /// address (an IPv6 client by its /64).
    pub fn ip_key(plane: &str, ip: &str) -> String {
        digest(&format!("ip|{plane}|{}", client_prefix(ip)))
    }

    /// Counts this attempt unless the key is over the limit.
    pub async fn check(&self, key: &str) -> Result<ThrottleDecision> {
        let now = self.clock.now_ms();
        let oldest_in_window =
            store::record_login_attempt(&self.db, key, now, self.window_ms, self.limit).await?;
        Ok(match oldest_in_window {
            None => ThrottleDecision::Allowed,
            Some(oldest) => {
                let wait_ms = (oldest + self.window_ms - now).max(0);
                ThrottleDecision::Throttled {
                    retry_after_secs: ((wait_ms + 999) / 1000).max(1),
                }
            }
        })
    }

    /// What subscribers hear of `key` refused by this throttle: the limit
    /// per client address, or with `email` (masked) the limit per address
    /// and email.
    pub fn refused(
        &self,
        plane: Plane,
        ip: &str,
        key: String,
        retry_after_secs: i64,
        email: Option<&str>,
    ) -> LoginThrottled {
        LoginThrottled {
            plane,
            ip: ip.to_owned(),
            limit: if email.is_some() { "ip_email" } else { "ip" },
            attempts_allowed: self.limit,
            email_masked: email.map(mask_email),
            key,
            retry_after_secs,
            at: self.clock.now(),
        }
    }

    /// Whether this is the first refusal of `key` in its window. A flood
    /// over the limit is answered every time but audited once a window, so
    /// refused requests add no row each.
    pub async fn first_refusal(&self, key: &str) -> Result<bool> {
        let now = self.clock.now_ms();
        let marker = digest(&format!("refused|{key}"));
        let earlier =
            store::record_login_attempt(&self.db, &marker, now, self.window_ms, 1).await?;
        Ok(earlier.is_none())
    }
}

/// Keys this process has seen refused, and until when (epoch ms): a flood
/// over a limit is answered from memory instead of a database transaction
/// per request. It only ever refuses what the database refused, so the limit
/// stays the database's; another process learns it from the database.
#[derive(Debug, Clone, Default)]
pub struct Refusals {
    until: Arc<Mutex<HashMap<String, i64>>>,
}

impl Refusals {
    /// Keys remembered at most; past that (a spray from very many
    /// addresses) refusals are asked of the database again.
    const CAPACITY: usize = 10_000;

    /// Seconds to wait when `key` is known to be refused at `now_ms`.
    pub fn retry_after_secs(&self, key: &str, now_ms: i64) -> Option<i64> {
        let until = *self.lock().get(key)?;
        (until > now_ms).then(|| ((until - now_ms + 999) / 1000).max(1))
    }

    /// Remembers that `key` is refused for `secs` from `now_ms`.
    pub fn remember(&self, key: &str, now_ms: i64, secs: i64) {
        let mut until = self.lock();
        if until.len() >= Refusals::CAPACITY {
            until.retain(|_, t| *t > now_ms);
        }
        if until.len() < Refusals::CAPACITY {
            until.insert(key.to_owned(), now_ms + secs * 1000);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Removes attempts older than every window (they count for nothing).
pub async fn delete_expired(db: &Db, clock: &SharedClock) -> Result<u64> {
    Ok(store::delete_login_attempts_before(db, clock.now_ms() - WINDOW_MS).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_digests_of_normalized_input() {
        let k = Throttle::key("system", "10.0.0.1", "  Op@Example.TEST ");
        assert_eq!(k.len(), 64);
        assert_eq!(k, Throttle::key("system", "10.0.0.1", "op@example.test"));
        assert_ne!(k, Throttle::key("admin", "10.0.0.1", "op@example.test"));
        let long = "a".repeat(60_000);
        assert_eq!(Throttle::key("system", "10.0.0.1", &long).len(), 64);
    }

    #[test]
    fn emails_are_masked_to_a_letter_and_the_domain() {
        assert_eq!(mask_email(" Op@Example.TEST "), "o…@example.test");
        assert_eq!(mask_email("no-at-sign"), "n…");
        assert_eq!(mask_email(""), "…");
        assert!(
            mask_email(&format!("a@{}", "d".repeat(500)))
                .chars()
                .count()
                < 110
        );
    }

    #[test]
    fn refusals_are_remembered_until_they_end() {
        let r = Refusals::default();
        assert_eq!(r.retry_after_secs("k", 0), None);
        r.remember("k", 1_000, 30);
        assert_eq!(r.retry_after_secs("k", 1_000), Some(30));
        assert_eq!(r.retry_after_secs("k", 30_500), Some(1));
        assert_eq!(r.retry_after_secs("k", 31_000), None);
        assert_eq!(r.retry_after_secs("other", 1_000), None);
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let key = |ip| Throttle::ip_key("system", ip);
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }
}
