//! The web door: the `/system` operator console and its JSON API, the
//! `/admin` customer plane, health and metrics. Handlers parse, call the
//! runbook service, and present; every route is declared once in
//! [`routes::table`] with the access it needs, and the guard applies it.

mod admin;
mod alerts;
mod api;
mod assets;
mod error;
mod forms;
mod metrics;
pub mod routes;
mod security;
mod system;
mod views;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::get;
use tokio::sync::watch;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::{self, NewPlatformUser, Password, Throttle};
use crate::app::App;
use crate::domain::{CapabilitySet, Email};
use crate::storage;
use crate::storage::sessions::{DbSessionStore, Plane};

pub use routes::{Access, RouteInfo};

/// Sample data `serve --demo` adds when the database has none.
const DEMO_TENANTS: i64 = 8;
const DEMO_FINDINGS_PER_TENANT: i64 = 250;
const DEMO_BAD_TENANTS: i64 = 1;
/// The operator `serve --demo` signs in as.
pub const DEMO_OPERATOR_EMAIL: &str = "operator@demo.tenantatlas.test";

/// Cookie of the `/system` plane (SR-004).
pub const SYSTEM_COOKIE: &str = "tenantatlas_system_session";
/// Cookie of the `/admin` plane (SR-004).
pub const ADMIN_COOKIE: &str = "tenantatlas_session";
/// Largest request body accepted (forms and JSON are far smaller).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A session lasts this long after sign-in.
const SESSION_HOURS: i64 = 8;

/// Settings of the web door, from the environment in `serve`.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// `TENANTATLAS_PUBLIC_URL`: the console's public origin, used by the
    /// Origin check and, when it is https, to mark cookies Secure.
    pub public_url: Option<String>,
    /// `TENANTATLAS_SECURE_COOKIES=1`: Secure cookies without a public URL.
    pub secure_cookies: bool,
    /// `TENANTATLAS_TRUSTED_PROXIES`: peers whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl WebConfig {
    pub fn from_env() -> anyhow::Result<WebConfig> {
        let public_url = std::env::var("TENANTATLAS_PUBLIC_URL")
            .ok()
            .filter(|s| !s.trim().is_empty());
        let secure_cookies = std::env::var("TENANTATLAS_SECURE_COOKIES")
            .map(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false);
        let trusted_proxies = match std::env::var("TENANTATLAS_TRUSTED_PROXIES") {
            Ok(list) => security::parse_proxies(&list).map_err(anyhow::Error::msg)?,
            Err(_) => vec![],
        };
        Ok(WebConfig {
            public_url: public_url.map(|u| u.trim().trim_end_matches('/').to_owned()),
            secure_cookies,
            trusted_proxies,
        })
    }

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
    pub throttle: Throttle,
}

impl WebState {
    pub fn new(app: App, config: WebConfig) -> WebState {
        WebState {
            system_sessions: DbSessionStore::new(app.db.clone(), Plane::System),
            admin_sessions: DbSessionStore::new(app.db.clone(), Plane::Admin),
            throttle: Throttle::standard(app.db.clone(), app.clock.clone()),
            config: Arc::new(config),
            app,
        }
    }
}

fn session_layer(
    store: DbSessionStore,
    name: &'static str,
    secure: bool,
) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(store)
        .with_name(name)
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(SESSION_HOURS)))
}

/// The web door with settings from the environment.
pub fn router(app: App) -> anyhow::Result<Router> {
    Ok(router_with(app, WebConfig::from_env()?))
}

/// The whole web door. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router_with(app: App, config: WebConfig) -> Router {
    metrics::install();
    let state = WebState::new(app, config);
    let secure = state.config.secure();
    let system = routes::build(&state, Plane::System).layer(session_layer(
        state.system_sessions.clone(),
        SYSTEM_COOKIE,
        secure,
    ));
    let admin = routes::build(&state, Plane::Admin).layer(session_layer(
        state.admin_sessions.clone(),
        ADMIN_COOKIE,
        secure,
    ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .route("/static/{file}", get(assets::serve))
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/system") }),
        )
        .merge(system)
        .merge(admin)
        .fallback(error::fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::outer,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<WebState>) -> (StatusCode, &'static str) {
    match state.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Serves a router on a bound listener, with the peer address available to
/// handlers (client ip, SR-003).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves the web door with `workers` in-process job loops until a signal.
pub async fn serve(app: App, bind: &str, workers: usize, demo: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind {bind:?} is not an address like 127.0.0.1:8080"))?;
    let router = router(app.clone())?;
    let demo_login = if demo {
        Some(seed_demo(&app).await?)
    } else {
        None
    };
    accounts::password::warm_up();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let worker_task = (workers > 0).then(|| tokio::spawn(app.worker().run(workers, stopped)));
    let sweeper = tokio::spawn(sweep_sessions(app.db.clone()));
    println!("TenantAtlas Ops listening on http://{local}");
    println!(
        "  console: http://{local}/system · health: http://{local}/healthz · workers in this process: {workers}"
    );
    if let Some((email, password)) = demo_login {
        println!("  demo operator: sign in at http://{local}/system/login");
        println!("    email:    {email}");
        match password {
            Some(p) => println!(
                "    password: {p}   (shown once; set TENANTATLAS_DEMO_PASSWORD to choose it)"
            ),
            None => println!("    password: the value of TENANTATLAS_DEMO_PASSWORD"),
        }
    }
    tracing::info!(%local, workers, "serving");
    serve_on(listener, router, crate::telemetry::shutdown_signal()).await?;
    sweeper.abort();
    let _ = stop.send(true);
    if let Some(task) = worker_task {
        let _ = task.await;
    }
    Ok(())
}

/// Expired sessions are deleted hourly.
async fn sweep_sessions(db: storage::Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = DbSessionStore::delete_expired(&db).await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
    }
}

/// Seeds demo tenants and the demo operator. Returns the operator's email
/// and the generated password (None when it came from the environment).
async fn seed_demo(app: &App) -> anyhow::Result<(String, Option<String>)> {
    let ws = app.runbooks().workspace().await?;
    let existing: i64 = app
        .db
        .scalar(
            "SELECT count(*) FROM tenants WHERE external_id LIKE 'demo-%'",
            vec![],
        )
        .await?;
    if existing == 0 {
        let report = storage::seed::seed(
            &app.db,
            ws.id,
            DEMO_TENANTS,
            DEMO_FINDINGS_PER_TENANT,
            DEMO_BAD_TENANTS,
            app.clock.now(),
        )
        .await?;
        println!(
            "demo data: {} tenants, {} legacy findings ({} tenant with a bad finding)",
            report.tenants, report.findings, report.bad_tenants
        );
    }
    let (password, shown) = match std::env::var("TENANTATLAS_DEMO_PASSWORD") {
        Ok(p) if !p.is_empty() => (
            Password::parse(&p).map_err(|e| anyhow::anyhow!("TENANTATLAS_DEMO_PASSWORD: {e}"))?,
            None,
        ),
        _ => {
            let p = Password::generate();
            let shown = p.expose().to_owned();
            (p, Some(shown))
        }
    };
    let email = Email::parse(DEMO_OPERATOR_EMAIL).map_err(anyhow::Error::msg)?;
    accounts::upsert_platform_user(
        &app.db,
        &app.clock,
        NewPlatformUser {
            email,
            name: "Demo Operator".into(),
            password,
            capabilities: CapabilitySet::all(),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the demo operator failed: {}", e.detail()))?;
    Ok((DEMO_OPERATOR_EMAIL.to_owned(), shown))
}
