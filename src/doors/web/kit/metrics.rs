//! The process-wide Prometheus recorder and the web door's own counters.
//! Counters the services emit (runs started, sign-in attempts, jobs) land in
//! the same recorder; `/metrics` renders it.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

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

/// Everything recorded, in Prometheus text; none without a recorder.
pub fn render() -> Option<String> {
    HANDLE.get().and_then(Option::as_ref).map(|h| h.render())
}

pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!("tenantatlas_http_requests_total", "route" => route, "status" => status.to_string()).increment(1);
    metrics::histogram!("tenantatlas_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
}
