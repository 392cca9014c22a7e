//! `/healthz` (the process is up), `/readyz` (the database answers) and
//! `/metrics` in Prometheus text. Queue depth and completed runs are read
//! from the database at scrape time, so they are right for the whole
//! deployment, not just this process. Who may scrape is decided per router:
//! the recorder is one per process, the token is not.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use super::kit::WebState;
use crate::app::App;
use crate::telemetry::MetricsToken;
use crate::telemetry::metrics as recorder;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<WebState>) -> (StatusCode, &'static str) {
    match state.app.health().ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e.detail(), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// What one router's `/metrics` needs: the services, for the series read
/// from the database, and the token scrapers must send, when one is set.
#[derive(Clone)]
struct Scrape {
    app: App,
    token: Option<MetricsToken>,
}

/// `GET /metrics` for a router of any state.
pub fn metrics_route<S>(app: App, token: Option<MetricsToken>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    recorder::install();
    get(metrics).with_state(Scrape { app, token })
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    let authorization = headers.get(header::AUTHORIZATION);
    if let Some(token) = &scrape.token
        && !token.admits(authorization.and_then(|v| v.to_str().ok()))
    {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "/metrics needs Authorization: Bearer with the metrics token\n",
        )
            .into_response();
    }
    scrape.app.health().refresh_gauges().await;
    match recorder::render() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}
