//! The web door: health endpoints now, the consoles behind them.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::sync::watch;

use crate::app::App;
use crate::queue::Worker;
use crate::storage;

/// Sample data `serve --demo` adds when the database has none.
const DEMO_TENANTS: i64 = 8;
const DEMO_FINDINGS_PER_TENANT: i64 = 250;
const DEMO_BAD_TENANTS: i64 = 1;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(app)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Serves the web door with `workers` in-process job loops until a signal.
pub async fn serve(app: App, bind: &str, workers: usize, demo: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = bind
        .parse()
        .with_context(|| format!("--bind {bind:?} is not an address like 127.0.0.1:8080"))?;
    if demo {
        seed_demo(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let worker_task =
        (workers > 0).then(|| tokio::spawn(Worker::new(app.clone()).run(workers, stopped)));
    println!("TenantAtlas Ops listening on http://{local}");
    println!("  health: http://{local}/healthz · workers in this process: {workers}");
    tracing::info!(%local, workers, "serving");
    axum::serve(listener, router(app))
        .with_graceful_shutdown(crate::telemetry::shutdown_signal())
        .await?;
    let _ = stop.send(true);
    if let Some(task) = worker_task {
        let _ = task.await;
    }
    Ok(())
}

async fn seed_demo(app: &App) -> anyhow::Result<()> {
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
    Ok(())
}
