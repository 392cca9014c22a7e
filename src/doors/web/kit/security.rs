//! Request checks every route gets: the client ip (SR-003), the body size
//! limit, the Origin check on state-changing requests, and request metrics;
//! and the security headers of every answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::{WebError, finish, format_of};
use super::guard::RouteLabel;
use super::identity::ClientIp;
use super::state::{MAX_BODY_BYTES, WebConfig, WebState};

/// Oversized bodies up to this size are drained before the 413 is sent.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

/// The peer's ip, unless the peer is a trusted proxy: then the right-most
/// X-Forwarded-For entry that is not itself a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, config: &WebConfig) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !config.trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !config.trusted_proxies.contains(ip))
        .map(IpAddr::to_string)
        .unwrap_or_else(|| peer.to_string())
}

/// A state-changing request must come from our own pages: a browser's
/// Origin (when sent) names this site, and Sec-Fetch-Site is never cross-site.
fn origin_ok(headers: &HeaderMap, config: &WebConfig) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Non-browser clients send none; the CSRF token still guards forms.
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if let Some(public) = &config.public_url {
        return origin.eq_ignore_ascii_case(public);
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin.eq_ignore_ascii_case(&format!("http://{host}"))
        || origin.eq_ignore_ascii_case(&format!("https://{host}"))
}

/// The headers every answer carries (tower-http sets them): no sniffing, no
/// framing, same-origin referrers, a strict content policy, `no-store`
/// unless the answer chose its caching, and over HTTPS (directly or behind a
/// TLS-terminating proxy) HSTS, so browsers keep to HTTPS for a year and a
/// later plain-http link cannot strip it.
pub fn headers(router: Router, config: &WebConfig) -> Router {
    use header::{CACHE_CONTROL as CACHE, STRICT_TRANSPORT_SECURITY as HSTS};
    let value = HeaderValue::from_static;
    let hsts = config.secure().then(|| value("max-age=31536000"));
    [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ]
    .into_iter()
    .fold(router, |r, (name, v)| {
        r.layer(SetResponseHeaderLayer::overriding(name, value(v)))
    })
    .layer(SetResponseHeaderLayer::if_not_present(
        CACHE,
        value("no-store"),
    ))
    .layer(SetResponseHeaderLayer::overriding(HSTS, hsts))
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The outermost middleware of the web door.
pub async fn outer(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(peer, request.headers(), &state.config);
    request.extensions_mut().insert(ClientIp(ip));

    let declared_len = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let response = if declared_len.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        // Read (and drop) a moderately oversized body so the client gets
        // the 413 instead of a connection reset while it is still sending.
        if declared_len.is_some_and(|n| n <= DRAIN_LIMIT as u64) {
            let _ = axum::body::to_bytes(request.into_body(), DRAIN_LIMIT).await;
        }
        WebError::too_large().into_response()
    } else if unsafe_method && !origin_ok(request.headers(), &state.config) {
        WebError::forbidden("This request did not come from this site (Origin check failed).")
            .into_response()
    } else {
        next.run(request).await
    };
    // Errors no route group answered get the body of their path's kind.
    let response = finish(response, format_of(&path));

    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map(|r| r.0)
        .unwrap_or(match path.as_str() {
            "/healthz" | "/readyz" | "/metrics" | "/" => "other",
            p if p.starts_with("/static/") => "/static/{file}",
            _ => "unmatched",
        });
    crate::telemetry::metrics::http_request(route, response.status().as_u16(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let cfg = WebConfig {
            trusted_proxies: vec![proxy],
            ..WebConfig::default()
        };
        assert_eq!(client_ip(Some(proxy), &h, &cfg), "203.0.113.9");
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(client_ip(Some(stranger), &h, &cfg), "198.51.100.7");
    }
}
