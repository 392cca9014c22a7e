//! `/healthz` (the process is up), `/readyz` (the database answers) and
//! `/metrics` in Prometheus text. Queue depth and completed runs are read
//! from the database at scrape time, so they are right for the whole
//! deployment, not just this process.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::kit::WebState;
use super::kit::metrics as recorder;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<WebState>) -> (StatusCode, &'static str) {
    match state.app.console().ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e.detail(), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

pub async fn metrics(State(state): State<WebState>) -> Response {
    let console = state.app.console();
    match console.queue_depth().await {
        Ok(depth) => metrics::gauge!("tenantatlas_queue_depth").set(depth as f64),
        Err(e) => tracing::warn!(error = %e.detail(), "queue depth unavailable"),
    }
    match console.completed_runs().await {
        Ok(rows) => {
            for (outcome, n) in rows {
                metrics::counter!("tenantatlas_runs_completed_total", "outcome" => outcome)
                    .absolute(n.max(0) as u64);
            }
        }
        Err(e) => tracing::warn!(error = %e.detail(), "completed runs unavailable"),
    }
    match recorder::render() {
        Some(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}
