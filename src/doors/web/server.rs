//! The whole web door assembled (both planes, health, assets, the security
//! middleware) and served, with in-process workers and session sweeping.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::get;
use tokio::sync::watch;

use super::kit::error::fallback;
use super::kit::{MAX_BODY_BYTES, WebConfig, WebState, metrics, security};
use super::{assets, health, routes};
use crate::accounts::{self, Plane};
use crate::app::App;
use crate::queue::Worker;

/// Expired sessions are deleted this often.
const SESSION_SWEEP_SECS: u64 = 3600;

/// The web door with settings from the environment.
pub fn router(app: App) -> anyhow::Result<Router> {
    Ok(router_with(app, WebConfig::from_env()?))
}

/// The whole web door. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router_with(app: App, config: WebConfig) -> Router {
    metrics::install();
    let state = WebState::new(app, config);
    let system = routes::build(&state, Plane::System).layer(state.session_layer(Plane::System));
    let admin = routes::build(&state, Plane::Admin).layer(state.session_layer(Plane::Admin));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/{file}", get(assets::serve))
        .route("/", get(|| async { Redirect::to("/system") }))
        .merge(system)
        .merge(admin)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::outer,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
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

/// Serves the web door with `workers` in-process job loops until a signal;
/// `demo` seeds sample data and the demo operator first.
pub async fn serve(app: App, bind: &str, workers: usize, demo: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind {bind:?} is not an address like 127.0.0.1:8080"))?;
    let router = router(app.clone())?;
    let demo = if demo {
        let password = std::env::var("TENANTATLAS_DEMO_PASSWORD").ok();
        let seeded = app
            .console()
            .seed_demo(password.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))?;
        if let Some(added) = seeded.added {
            println!(
                "demo data: {} tenants, {} legacy findings ({} tenant with a bad finding)",
                added.tenants, added.findings, added.bad_tenants
            );
        }
        Some(seeded)
    } else {
        None
    };
    accounts::password::warm_up();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let worker_task =
        (workers > 0).then(|| tokio::spawn(Worker::new(app.clone()).run(workers, stopped)));
    let sweeper = tokio::spawn(sweep_sessions(app.clone()));
    println!("TenantAtlas Ops listening on http://{local}");
    println!(
        "  console: http://{local}/system · health: http://{local}/healthz · workers in this process: {workers}"
    );
    if let Some(demo) = demo {
        println!("  demo operator: sign in at http://{local}/system/login");
        println!("    email:    {}", demo.operator_email);
        match demo.generated_password {
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

/// Deletes expired sessions periodically.
async fn sweep_sessions(app: App) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(SESSION_SWEEP_SECS));
    loop {
        tick.tick().await;
        if let Err(e) = app.accounts().delete_expired_sessions().await {
            tracing::warn!(error = %e.detail(), "deleting expired sessions failed");
        }
    }
}
