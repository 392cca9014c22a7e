//! Argon2id password hashes. Hashing is CPU work, so it runs on the blocking
//! pool, never on a request's async thread.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::TextKind;
use crate::error::{Error, Result};

/// A password as typed: checked for length, never printed by `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = TextKind::PASSWORD.max_chars;

    /// A new password: the rule of passwords, and long enough.
    pub fn parse(raw: &str) -> std::result::Result<Password, String> {
        let raw = TextKind::PASSWORD.check("password", raw)?;
        if raw.chars().count() < Password::MIN_LEN {
            return Err(format!(
                "password: at least {} characters",
                Password::MIN_LEN
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    /// A random password for `serve --demo` (about 120 bits).
    pub fn generate() -> Password {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rngs::OsRng;
        let s: String = (0..22)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Password(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
}

/// A hash of nothing anyone knows, verified for unknown emails so they cost
/// what a wrong password costs.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("tenantatlas-dummy-password-for-timing").unwrap_or_default())
}

pub async fn hash_password(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password.0))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
}

/// Verifies `password` against `hash`, or against the dummy hash when there
/// is none (and then answers false), taking the same time either way.
pub async fn verify_password(password: &str, hash: Option<String>) -> Result<bool> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let stored = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = match PasswordHash::new(&stored) {
            Ok(parsed) => argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => {
                // A malformed stored hash: still spend the time, then refuse.
                if let Ok(parsed) = PasswordHash::new(dummy_hash()) {
                    let _ = argon2().verify_password(password.as_bytes(), &parsed);
                }
                false
            }
        };
        ok && known
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("verifying task failed: {e}")))
}

/// Warms the dummy hash so the first unknown email is not slower than later ones.
pub fn warm_up() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_is_false() {
        let h = hash_password(Password::parse("correct horse battery").unwrap())
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery", Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong password here", Some(h))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("tenantatlas-dummy-password-for-timing", None)
                .await
                .unwrap()
        );
    }
}
