//! The session store of both web planes (tower-sessions over our database).
//!
//! A store belongs to one plane: the `/system` store never loads an `/admin`
//! session and the other way round (SR-004). Rows are keyed by a SHA-256 of
//! the session id, so reading the table yields no cookie.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::error::Result;
use crate::storage::{Db, sessions as store};

/// The two signed-in areas: the operator console and the customer plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plane {
    System,
    Admin,
}

impl Plane {
    pub fn as_str(&self) -> &'static str {
        match self {
            Plane::System => "system",
            Plane::Admin => "admin",
        }
    }

    /// The plane's pages: `/system` or `/admin`.
    pub fn root(&self) -> &'static str {
        match self {
            Plane::System => "/system",
            Plane::Admin => "/admin",
        }
    }

    pub fn other(&self) -> Plane {
        match self {
            Plane::System => Plane::Admin,
            Plane::Admin => Plane::System,
        }
    }

    /// The session key holding the id of whoever signed in to this plane.
    pub fn user_key(&self) -> &'static str {
        match self {
            Plane::System => OPERATOR_KEY,
            Plane::Admin => USER_KEY,
        }
    }

    /// The heading of the plane's sign-in page.
    pub fn sign_in_heading(&self) -> &'static str {
        match self {
            Plane::System => "Operator sign-in",
            Plane::Admin => "Sign in to your workspace",
        }
    }

    /// Where to go after sign-in: `next` when it is a path of this plane in
    /// visible ASCII, else the plane's root. A header value cannot hold control
    /// or non-ASCII characters, `//` or a backslash could leave the site, and a
    /// dot segment (also as `%2e`) could climb out of the plane.
    pub fn safe_next(&self, next: Option<&str>) -> String {
        let carried = Some(self.carried_next(next)).filter(|n| !n.is_empty());
        carried.unwrap_or_else(|| self.root().to_owned())
    }

    /// The `next` a sign-in page carries to its form: only one it would follow.
    pub fn carried_next(&self, next: Option<&str>) -> String {
        next.filter(|n| self.is_own_path(n))
            .map(str::to_owned)
            .unwrap_or_default()
    }

    fn is_own_path(&self, next: &str) -> bool {
        let Some(rest) = next.strip_prefix(self.root()) else {
            return false;
        };
        let path = next.split(['?', '#']).next().unwrap_or_default();
        (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            && next.bytes().all(|b| b.is_ascii_graphic())
            && !next.contains("//")
            && !next.contains('\\')
            && !path.contains("/login")
            && !path.split('/').any(|segment| {
                let segment = segment.to_ascii_lowercase().replace("%2e", ".");
                segment == "." || segment == ".."
            })
    }
}

/// Session key holding the signed-in operator's id (`/system`).
pub const OPERATOR_KEY: &str = "operator_id";
/// Session key holding the signed-in customer user's id (`/admin`).
pub const USER_KEY: &str = "user_id";

/// Session key holding the form token (CSRF) of a signed-in session.
pub const CSRF_KEY: &str = "csrf";

/// 32 random bytes in hex: a session's form token, a nonce, a new key.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The session's form token, created on first use.
pub async fn session_token(session: &Session) -> Result<String> {
    if let Some(t) = session.get::<String>(CSRF_KEY).await? {
        return Ok(t);
    }
    new_session_token(session).await
}

async fn new_session_token(session: &Session) -> Result<String> {
    let token = random_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Whether someone is signed in to this session (of either plane's key:
/// a plane's session holds only its own).
pub async fn anyone_signed_in(session: &Session) -> Result<bool> {
    Ok(session.get::<i64>(OPERATOR_KEY).await?.is_some()
        || session.get::<i64>(USER_KEY).await?.is_some())
}

/// Signs a person in: a new session id (no fixation), their id, and a new
/// form token.
pub async fn begin(session: &Session, plane: Plane, id: i64) -> Result<()> {
    session.cycle_id().await?;
    session.insert(plane.user_key(), id).await?;
    new_session_token(session).await?;
    Ok(())
}

/// Signs out: the session and its row are gone.
pub async fn end(session: &Session) -> Result<()> {
    Ok(session.flush().await?)
}

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    plane: Plane,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbSessionStore({})", self.plane.as_str())
    }
}

/// A session id's stored key.
pub(super) fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl DbSessionStore {
    /// The row of a record: its data, and who signed in to it.
    fn row<'a>(&self, key: &'a str, data: &'a str, record: &Record) -> store::SessionRow<'a> {
        store::SessionRow {
            key,
            plane: self.plane.as_str(),
            data,
            user_id: record
                .data
                .get(self.plane.user_key())
                .and_then(|v| v.as_i64()),
            expires_at_ms: expiry_ms(record),
        }
    }

    pub fn new(db: Db, plane: Plane) -> Self {
        DbSessionStore { db, plane }
    }

    pub fn plane(&self) -> Plane {
        self.plane
    }

    /// Whether a cookie value names a live, signed-in session of this plane
    /// (one holding `user_key`): tells a wrong-plane visitor from an anonymous one.
    pub async fn is_signed_in(&self, cookie_value: &str, user_key: &str) -> bool {
        match cookie_value.parse::<Id>() {
            Ok(id) => matches!(self.load(&id).await, Ok(Some(r)) if r.data.contains_key(user_key)),
            Err(_) => false,
        }
    }
}

/// Removes expired sessions of every plane.
pub async fn delete_expired(db: &Db) -> Result<u64> {
    Ok(store::delete_expired(db, now_ms()).await?)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A colliding random id is astronomically unlikely; take a new one if it happens.
        for _ in 0..8 {
            let key = key(&record.id);
            let inserted = store::insert(&self.db, self.row(&key, &data, record))
                .await
                .map_err(backend)?;
            if inserted {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend(
            "could not allocate a session id".into(),
        ))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let key = key(&record.id);
        store::save(&self.db, self.row(&key, &data, record))
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row = store::load(&self.db, &key(id), self.plane.as_str(), now_ms())
            .await
            .map_err(backend)?;
        let Some((data, expires_at_ms)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at_ms) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        store::delete(&self.db, &key(id), self.plane.as_str())
            .await
            .map_err(backend)
    }
}
