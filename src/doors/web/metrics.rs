//! `/metrics` in Prometheus text. Counters the core emits (runs started,
//! jobs claimed and failed) are recorded by the process-wide recorder; queue
//! depth and completed runs are read from the database at scrape time, so
//! they are right for the whole deployment, not just this process.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::WebState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (several routers in one test
/// process share it).
pub fn install() {
    HANDLE.get_or_init(|| match PrometheusBuilder::new().install_recorder() {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(error = %e, "metrics recorder not installed");
            None
        }
    });
}

pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!("tenantatlas_http_requests_total", "route" => route, "status" => status.to_string()).increment(1);
    metrics::histogram!("tenantatlas_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
}

pub fn login_attempt(plane: &'static str, result: &'static str) {
    metrics::counter!("tenantatlas_login_attempts_total", "plane" => plane, "result" => result)
        .increment(1);
}

pub async fn render(State(state): State<WebState>) -> Response {
    match crate::storage::queue::depth(&mut state.app.db.clone()).await {
        Ok(depth) => metrics::gauge!("tenantatlas_queue_depth").set(depth as f64),
        Err(e) => tracing::warn!(error = %e, "queue depth unavailable"),
    }
    let completed: Result<Vec<(String, i64)>, _> = state
        .app
        .db
        .fetch_all("SELECT outcome, count(*) FROM operation_runs WHERE status = 'completed' GROUP BY outcome", vec![])
        .await;
    match completed {
        Ok(rows) => {
            for (outcome, n) in rows {
                metrics::counter!("tenantatlas_runs_completed_total", "outcome" => outcome)
                    .absolute(n.max(0) as u64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "completed runs unavailable"),
    }
    match HANDLE.get().and_then(Option::as_ref) {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}
