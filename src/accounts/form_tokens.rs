//! The tokens that guard forms against requests from other sites (CSRF).
//! Someone signed in has their session's own token, kept in the session
//! beside who they are (`sessions`). A visitor nobody has signed in yet
//! (the sign-in forms) gets a signed token instead: a random nonce and its HMAC-SHA256
//! under the deployment's key, which the web door also hands over in a
//! cookie (a signed double submit). Showing a sign-in page therefore writes
//! nothing to the database; the session row appears at sign-in.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::sync::OnceCell;
use tower_sessions::Session;

use super::sessions::{CSRF_KEY, anyone_signed_in, random_token};
use super::sign_in::AccountService;
use crate::error::{Error, Result};

/// What the MAC covers besides the nonce, so the key signs nothing else.
const PURPOSE: &[u8] = b"tenantatlas anonymous form token v1|";

type HmacSha256 = Hmac<Sha256>;

/// Equal, compared in constant time for strings of one length.
fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `TENANTATLAS_SECRET_KEY`: at least 32 characters (a guessable key would
/// let anyone sign a form token); never shown by `Debug`.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn parse(value: &str) -> std::result::Result<SecretKey, String> {
        let value = value.trim();
        if value.chars().count() < 32 {
            return Err("the secret key needs at least 32 characters".into());
        }
        Ok(SecretKey(value.to_owned()))
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

/// The key that signs visitors' tokens: the configured [`SecretKey`], else
/// the deployment's key kept in the database, read once per process.
#[derive(Clone)]
pub struct FormKey(Arc<OnceCell<Arc<[u8]>>>);

impl FormKey {
    pub fn new(configured: Option<&SecretKey>) -> FormKey {
        let key = configured.map(|k| Arc::<[u8]>::from(k.0.as_bytes()));
        FormKey(Arc::new(OnceCell::new_with(key)))
    }

    async fn bytes(&self, accounts: &AccountService) -> Result<Arc<[u8]>> {
        let key = self.0.get_or_try_init(|| async {
            let key = accounts.form_signing_key().await?;
            Ok::<_, Error>(Arc::<[u8]>::from(key.into_bytes()))
        });
        Ok(key.await?.clone())
    }

    /// A visitor's token: `cookie` when this deployment signed it (several
    /// open pages keep working), else a new one. Answers whether it is new
    /// (and so must be handed over).
    pub async fn visitor_token(
        &self,
        accounts: &AccountService,
        cookie: Option<&str>,
    ) -> Result<(String, bool)> {
        let key = self.bytes(accounts).await?;
        if let Some(token) = cookie
            && is_signed(&key, token)?
        {
            return Ok((token.to_owned(), false));
        }
        Ok((new_token(&key)?, true))
    }

    /// Whether a form's token is right: a session with someone signed in
    /// needs its own token; anyone else the token of their signed `cookie`.
    pub async fn form_token_ok(
        &self,
        accounts: &AccountService,
        session: Option<&Session>,
        cookie: Option<&str>,
        sent: &str,
    ) -> Result<bool> {
        if let Some(session) = session
            && anyone_signed_in(session).await?
        {
            let expected = session.get::<String>(CSRF_KEY).await?;
            return Ok(matches!(expected, Some(t) if !sent.is_empty() && same(sent, &t)));
        }
        let Some(cookie) = cookie else {
            return Ok(false);
        };
        let key = self.bytes(accounts).await?;
        Ok(!sent.is_empty() && same(sent, cookie) && is_signed(&key, cookie)?)
    }
}

fn mac(key: &[u8], nonce: &str) -> Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|e| anyhow::anyhow!("the form signing key is unusable: {e}"))?;
    mac.update(PURPOSE);
    mac.update(nonce.as_bytes());
    Ok(mac)
}

fn new_token(key: &[u8]) -> Result<String> {
    let nonce = random_token();
    let tag = hex::encode(mac(key, &nonce)?.finalize().into_bytes());
    Ok(format!("{nonce}.{tag}"))
}

/// Whether a token is one this deployment signed (the MAC compared in
/// constant time).
fn is_signed(key: &[u8], token: &str) -> Result<bool> {
    let Some((nonce, tag)) = token.split_once('.') else {
        return Ok(false);
    };
    if nonce.len() != 64 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let Ok(tag) = hex::decode(tag) else {
        return Ok(false);
    };
    Ok(mac(key, nonce)?.verify_slice(&tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_signed_with_the_key_pass() {
        let key = b"a key of at least thirty-two characters";
        let token = new_token(key).unwrap();
        assert!(is_signed(key, &token).unwrap());
        assert!(!is_signed(b"another key of thirty-two characters", &token).unwrap());
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!is_signed(key, &format!("{nonce}.{}", "0".repeat(64))).unwrap());
        assert!(!is_signed(key, nonce).unwrap());
        assert!(!is_signed(key, "").unwrap());
    }
}
