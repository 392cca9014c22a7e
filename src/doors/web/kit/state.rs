//! The web door's settings and state, and the session layers of its planes.

use std::net::IpAddr;
use std::sync::Arc;

use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::{DbSessionStore, FormKey, Plane, SecretKey};
use crate::app::App;
use crate::telemetry::MetricsToken;

/// Cookie of the `/system` plane (SR-004).
pub const SYSTEM_COOKIE: &str = "tenantatlas_system_session";
/// Cookie of the `/admin` plane (SR-004).
pub const ADMIN_COOKIE: &str = "tenantatlas_session";
/// Largest request body accepted (forms and JSON are far smaller).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A session lasts this long after sign-in.
const SESSION_HOURS: i64 = 8;

/// Settings of the web door; the CLI's configuration builds them from
/// flags and the environment.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// `TENANTATLAS_PUBLIC_URL`: the console's public origin, used by the
    /// Origin check and, when it is https, to mark cookies Secure.
    pub public_url: Option<String>,
    /// `TENANTATLAS_SECURE_COOKIES=1`: Secure cookies without a public URL.
    pub secure_cookies: bool,
    /// `TENANTATLAS_TRUSTED_PROXIES`: peers whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// `TENANTATLAS_METRICS_TOKEN`: `/metrics` answers only `Authorization:
    /// Bearer` this token; unset, anyone who reaches it.
    pub metrics_token: Option<MetricsToken>,
    /// `TENANTATLAS_METRICS_BIND` is set: `/metrics` has its own listener
    /// (`metrics_router`) and the console answers it 404.
    pub metrics_elsewhere: bool,
    /// `TENANTATLAS_SECRET_KEY`: signs the sign-in forms' CSRF tokens; when
    /// absent a key generated once is kept in the database.
    pub secret_key: Option<SecretKey>,
}

impl WebConfig {
    /// Cookies are Secure when the console is served over HTTPS.
    pub fn secure(&self) -> bool {
        self.secure_cookies
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    pub config: Arc<WebConfig>,
    pub system_sessions: DbSessionStore,
    pub admin_sessions: DbSessionStore,
    /// The key signing the sign-in forms' tokens, read once.
    pub form_key: FormKey,
}

impl WebState {
    pub fn new(app: App, config: WebConfig) -> WebState {
        let accounts = app.accounts();
        WebState {
            form_key: FormKey::new(config.secret_key.as_ref()),
            system_sessions: accounts.sessions(Plane::System),
            admin_sessions: accounts.sessions(Plane::Admin),
            config: Arc::new(config),
            app,
        }
    }

    /// The session store of a plane.
    pub fn sessions(&self, plane: Plane) -> &DbSessionStore {
        match plane {
            Plane::System => &self.system_sessions,
            Plane::Admin => &self.admin_sessions,
        }
    }

    /// The session layer of a plane: its own cookie (SR-004), HttpOnly,
    /// SameSite=Lax, Secure over HTTPS, valid for a while after sign-in.
    pub fn session_layer(&self, plane: Plane) -> SessionManagerLayer<DbSessionStore> {
        SessionManagerLayer::new(self.sessions(plane).clone())
            .with_name(cookie_name(plane))
            .with_path("/")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(self.config.secure())
            .with_expiry(Expiry::OnInactivity(time::Duration::hours(SESSION_HOURS)))
    }
}

/// The session cookie of a plane.
pub fn cookie_name(plane: Plane) -> &'static str {
    match plane {
        Plane::System => SYSTEM_COOKIE,
        Plane::Admin => ADMIN_COOKIE,
    }
}
