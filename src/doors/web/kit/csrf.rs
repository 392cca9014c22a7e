//! CSRF tokens of visitors nobody has signed in yet (the sign-in forms): a
//! signed double-submit cookie. The token is a random nonce and its
//! HMAC-SHA256 under the deployment's key; the page carries it in `_token`
//! and the cookie `tenantatlas_csrf` holds the same value. Showing a sign-in
//! page therefore writes nothing to the database; the session row appears at
//! sign-in, and a signed-in session keeps its own session-bound token.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_sessions::Session;
use tower_sessions::cookie::{Cookie, SameSite};

use super::cookies::cookie_value;
use super::error::WebError;
use super::session::{anyone_signed_in, same, token_matches};
use super::state::WebState;

/// The cookie holding an anonymous visitor's token, shared by both planes.
pub const CSRF_COOKIE: &str = "tenantatlas_csrf";
/// What the MAC covers besides the nonce, so the key signs nothing else.
const PURPOSE: &[u8] = b"tenantatlas anonymous form token v1|";

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], nonce: &str) -> Result<HmacSha256, WebError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|e| {
        tracing::error!(error = %e, "the form signing key is unusable");
        WebError::internal()
    })?;
    mac.update(PURPOSE);
    mac.update(nonce.as_bytes());
    Ok(mac)
}

fn new_token(key: &[u8]) -> Result<String, WebError> {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let nonce = hex::encode(bytes);
    let tag = hex::encode(mac(key, &nonce)?.finalize().into_bytes());
    Ok(format!("{nonce}.{tag}"))
}

/// Whether a token is one this deployment signed (the MAC compared in
/// constant time).
fn is_signed(key: &[u8], token: &str) -> Result<bool, WebError> {
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

/// The visitor's token cookie, if they sent one.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, CSRF_COOKIE)
}

/// The key that signs tokens: `TENANTATLAS_SECRET_KEY`, else the
/// deployment's key from the database, read once per process.
async fn signing_key(state: &WebState) -> Result<Arc<[u8]>, WebError> {
    let key = state
        .form_key
        .get_or_try_init(|| async {
            let key = state.app.accounts().form_signing_key().await?;
            Ok::<_, WebError>(Arc::<[u8]>::from(key.into_bytes()))
        })
        .await?;
    Ok(key.clone())
}

/// The token of a sign-in page: the visitor's cookie when this deployment
/// signed it (several open pages keep working), else a new one together with
/// the `Set-Cookie` that hands it over.
pub async fn anonymous_token(
    state: &WebState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), WebError> {
    let key = signing_key(state).await?;
    if let Some(token) = cookie_token(headers)
        && is_signed(&key, token)?
    {
        return Ok((token.to_owned(), None));
    }
    let token = new_token(&key)?;
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure())
        .build();
    let value = HeaderValue::from_str(&cookie.to_string()).map_err(|_| WebError::internal())?;
    Ok((token, Some(value)))
}

/// Whether a form's `_token` is right. A session with someone signed in
/// needs its own token; anyone else the token of their signed cookie.
pub async fn form_token_ok(
    state: &WebState,
    session: Option<&Session>,
    headers: &HeaderMap,
    sent: &str,
) -> Result<bool, WebError> {
    if let Some(session) = session
        && anyone_signed_in(session).await?
    {
        return token_matches(Some(session), sent).await;
    }
    let Some(cookie) = cookie_token(headers) else {
        return Ok(false);
    };
    let key = signing_key(state).await?;
    Ok(!sent.is_empty() && same(sent, cookie) && is_signed(&key, cookie)?)
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
