//! The web door's own request series, and who may read `/metrics`: a
//! setting of each router ([`MetricsToken`]), never of the recorder
//! ([`crate::telemetry::metrics`]), which the whole process shares.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
