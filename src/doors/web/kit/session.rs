//! What a plane's session holds: who signed in and the CSRF token. A
//! session (and its row) exists only once someone has signed in; visitors
//! before that get their form token from `csrf.rs`.

use tower_sessions::Session;

use super::error::WebError;
use crate::accounts::Plane;

pub use crate::accounts::sessions::{OPERATOR_KEY, USER_KEY};
/// Session key holding the CSRF token of either plane.
pub const CSRF_KEY: &str = "csrf";

/// The session key holding the signed-in person of a plane.
pub fn user_key(plane: Plane) -> &'static str {
    plane.user_key()
}

/// Whether someone is signed in to this session (of either plane's key:
/// a plane's session holds only its own).
pub async fn anyone_signed_in(session: &Session) -> Result<bool, WebError> {
    Ok(session.get::<i64>(OPERATOR_KEY).await?.is_some()
        || session.get::<i64>(USER_KEY).await?.is_some())
}

/// Signs a person in: a new session id (no fixation), their id, and a new
/// CSRF token.
pub async fn begin(session: &Session, plane: Plane, id: i64) -> Result<(), WebError> {
    session.cycle_id().await?;
    session.insert(user_key(plane), id).await?;
    new_csrf_token(session).await?;
    Ok(())
}

/// Signs out: the session and its row are gone.
pub async fn end(session: &Session) -> Result<(), WebError> {
    session.flush().await?;
    Ok(())
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Some(t) = session.get::<String>(CSRF_KEY).await? {
        return Ok(t);
    }
    new_csrf_token(session).await
}

/// A fresh CSRF token.
async fn new_csrf_token(session: &Session) -> Result<String, WebError> {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Whether a sent token is the session's (constant time in its length).
pub async fn token_matches(session: Option<&Session>, sent: &str) -> Result<bool, WebError> {
    let expected = match session {
        Some(s) => s.get::<String>(CSRF_KEY).await?,
        None => None,
    };
    Ok(matches!(expected, Some(t) if !sent.is_empty() && same(sent, &t)))
}

/// Equal, compared in constant time for strings of one length.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
