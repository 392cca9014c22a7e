//! SR-003 login throttling: at most `limit` attempts per window per key of
//! client ip + normalized email, counted in the database so several server
//! processes sharing it enforce one limit.

use crate::clock::SharedClock;
use crate::domain::Email;
use crate::error::Result;
use crate::storage::{Db, accounts as store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// The attempt is counted; go on and check the password.
    Allowed,
    /// Over the limit: answer 429 without checking the password.
    Throttled { retry_after_secs: i64 },
}

#[derive(Clone)]
pub struct Throttle {
    db: Db,
    clock: SharedClock,
    pub limit: i64,
    pub window_ms: i64,
}

impl Throttle {
    /// 10 attempts a minute (SR-003).
    pub fn standard(db: Db, clock: SharedClock) -> Throttle {
        Throttle {
            db,
            clock,
            limit: 10,
            window_ms: 60_000,
        }
    }

    /// The key: plane, client ip and the email as typed, trimmed and lower-cased.
    pub fn key(plane: &str, ip: &str, email: &str) -> String {
        format!("{plane}|{ip}|{}", Email::normalize_loose(email))
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
}
