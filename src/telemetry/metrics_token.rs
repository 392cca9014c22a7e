//! Who may read `/metrics`: the bearer token scrapers send
//! (`TENANTATLAS_METRICS_TOKEN`). A setting of each router that serves the
//! series, never of the recorder ([`super::metrics`]), which the whole
//! process shares.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

    /// Whether a request's `Authorization` is `Bearer <this token>`. The
    /// digests are compared in constant time, so the answer's timing tells
    /// nothing about how much of a guess was right, nor the token's length.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Some(given) = authorization.and_then(bearer) else {
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

    #[test]
    fn a_token_admits_only_its_bearer() {
        let token = MetricsToken::parse("  scrape-0123456789abcdef ").unwrap();
        assert!(token.admits(Some("Bearer scrape-0123456789abcdef")));
        assert!(token.admits(Some("bearer scrape-0123456789abcdef")));
        for refused in [
            "Bearer scrape-0123456789abcdeF",
            "Bearer scrape-0123456789abcde",
            "Basic scrape-0123456789abcdef",
            "scrape-0123456789abcdef",
            "Bearer",
        ] {
            assert!(!token.admits(Some(refused)), "{refused}");
        }
        assert!(!token.admits(None));
        assert_eq!(format!("{token:?}"), "MetricsToken(…)");
    }

    #[test]
    fn short_or_blank_tokens_are_refused() {
        assert!(MetricsToken::parse("short").is_err());
        assert!(MetricsToken::parse("sixteen chars or more").is_err());
        assert!(MetricsToken::parse(&"x".repeat(16)).is_ok());
    }
}
