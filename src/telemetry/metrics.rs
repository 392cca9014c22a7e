//! The process-wide Prometheus recorder and what each of its series
//! means. Services and workers record into it (runs started, sign-in
//! attempts, jobs); the web door records its requests and renders it at
//! `/metrics`. One recorder a process, however many routers serve it.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Upper bounds (seconds) of the latency buckets: pages read from the
/// database answer in milliseconds, a sign-in's password hash takes a good
/// part of a second, and nothing the console does should take ten (slower
/// lands in `+Inf`). Histograms, unlike quantiles, add up across processes.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets between scrapes,
/// so an unscraped process does not keep every sample.
const UPKEEP: Duration = Duration::from_secs(5);

enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every series of the process: its name, type and HELP text.
const SERIES: [(&str, Kind, &str); 9] = [
    (
        "tenantatlas_http_requests_total",
        Kind::Counter,
        "HTTP requests answered by this process, by route pattern and status.",
    ),
    (
        "tenantatlas_http_request_duration_seconds",
        Kind::Histogram,
        "Time to answer an HTTP request in this process, by route pattern.",
    ),
    (
        "tenantatlas_login_attempts_total",
        Kind::Counter,
        "Sign-in attempts handled by this process, by plane and result.",
    ),
    (
        "tenantatlas_runs_started_total",
        Kind::Counter,
        "Operation runs started through this process, by runbook.",
    ),
    (
        "tenantatlas_runs_completed_total",
        Kind::Counter,
        "Operation runs completed in the whole deployment, by outcome; read from the database at scrape time.",
    ),
    (
        "tenantatlas_queue_depth",
        Kind::Gauge,
        "Jobs available, retryable or running in the whole deployment; read from the database at scrape time.",
    ),
    (
        "tenantatlas_jobs_claimed_total",
        Kind::Counter,
        "Jobs claimed by the workers of this process, by job kind.",
    ),
    (
        "tenantatlas_jobs_failed_total",
        Kind::Counter,
        "Job attempts of this process that failed (recorded retryable or discarded), by job kind.",
    ),
    (
        "tenantatlas_jobs_recorded_total",
        Kind::Counter,
        "Job outcomes recorded by the workers of this process, by job kind and the status recorded \
         (completed, available when snoozed, retryable, discarded, cancelled, running when the lease had passed on).",
    ),
];

/// Installs the process-wide recorder once (several routers in one test
/// process share it), with latency histograms and the HELP of every series.
pub fn install() {
    HANDLE.get_or_init(|| {
        let installed = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .and_then(PrometheusBuilder::install_recorder);
        match installed {
            Ok(handle) => {
                describe();
                keep_up(handle.clone());
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        }
    });
}

fn describe() {
    for (name, kind, help) in SERIES {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

fn keep_up(handle: PrometheusHandle) {
    let upkeep = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP);
                handle.run_upkeep();
            }
        });
    if let Err(e) = upkeep {
        tracing::warn!(error = %e, "metrics upkeep not started");
    }
}

/// Everything recorded, in Prometheus text; none without a recorder.
pub fn render() -> Option<String> {
    HANDLE.get().and_then(Option::as_ref).map(|h| h.render())
}

/// Records one HTTP request answered by this process.
pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!("tenantatlas_http_requests_total", "route" => route, "status" => status.to_string()).increment(1);
    metrics::histogram!("tenantatlas_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
}
