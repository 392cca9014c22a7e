//! The process-wide Prometheus recorder, what each of its series means, and
//! the web door's own request series. Series the services emit (runs
//! started, sign-in attempts, jobs) land in the same recorder; `/metrics`
//! renders it. Who may read `/metrics` is a setting of each router
//! ([`MetricsToken`]), never of the recorder, which the whole process shares.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

pub fn http_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!("tenantatlas_http_requests_total", "route" => route, "status" => status.to_string()).increment(1);
    metrics::histogram!("tenantatlas_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
}

/// The bearer token scrapers must send for `/metrics`
/// (`TENANTATLAS_METRICS_TOKEN`). Only its SHA-256 is kept, and `Debug`
/// shows nothing of it.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

impl MetricsToken {
    /// Fewest characters a token may have.
    pub const MIN_LEN: usize = 16;

    /// A token of at least [`Self::MIN_LEN`] visible ASCII characters
    /// (what an `Authorization` header can carry), surrounding blanks ignored.
    pub fn parse(token: &str) -> Result<MetricsToken, String> {
        let token = token.trim();
        if token.len() < Self::MIN_LEN {
            return Err(format!(
                "TENANTATLAS_METRICS_TOKEN needs at least {} characters",
                Self::MIN_LEN
            ));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "TENANTATLAS_METRICS_TOKEN may hold only visible ASCII characters, no spaces"
                    .into(),
            );
        }
        Ok(MetricsToken(Sha256::digest(token.as_bytes()).into()))
    }

    /// Whether a request carries `Authorization: Bearer <this token>`. The
    /// digests are compared in constant time, so the answer's timing tells
    /// nothing about how much of a guess was right, nor the token's length.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer)
        else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        digest.ct_eq(&self.0).into()
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

/// The credentials of a `Bearer` authorization (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_token_admits_only_its_bearer() {
        let token = MetricsToken::parse("  scrape-0123456789abcdef ").unwrap();
        assert!(token.admits(&with_auth("Bearer scrape-0123456789abcdef")));
        assert!(token.admits(&with_auth("bearer scrape-0123456789abcdef")));
        for refused in [
            "Bearer scrape-0123456789abcdeF",
            "Bearer scrape-0123456789abcde",
            "Basic scrape-0123456789abcdef",
            "scrape-0123456789abcdef",
            "Bearer",
        ] {
            assert!(!token.admits(&with_auth(refused)), "{refused}");
        }
        assert!(!token.admits(&HeaderMap::new()));
        assert_eq!(format!("{token:?}"), "MetricsToken(…)");
    }

    #[test]
    fn short_or_blank_tokens_are_refused() {
        assert!(MetricsToken::parse("short").is_err());
        assert!(MetricsToken::parse("sixteen chars or more").is_err());
        assert!(MetricsToken::parse(&"x".repeat(16)).is_ok());
    }
}
