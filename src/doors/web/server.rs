//! The whole web door assembled (both planes, health, assets, the security
//! middleware), and how it is served; `serve` in the CLI runs it with
//! in-process workers.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::get;

use super::kit::error_page::missing;
use super::kit::{MAX_BODY_BYTES, WebConfig, WebState, security};
use super::{assets, health, routes};
use crate::accounts::Plane;
use crate::app::App;
use crate::telemetry::{self, MetricsToken};

/// The whole web door. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router_with(app: App, config: WebConfig) -> Router {
    telemetry::metrics::install();
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if !config.metrics_elsewhere {
        let scrape = health::metrics_route(app.clone(), config.metrics_token.clone());
        router = router.route("/metrics", scrape);
    }
    let state = WebState::new(app, config);
    let system = routes::build(&state, Plane::System).layer(state.session_layer(Plane::System));
    let admin = routes::build(&state, Plane::Admin).layer(state.session_layer(Plane::Admin));
    // Unknown paths read the console's session to keep its chrome.
    let unknown = Router::new()
        .fallback(missing)
        .layer(state.session_layer(Plane::System))
        .with_state(state.clone());
    let router = router
        .route("/static/{file}", get(assets::serve))
        .route("/", get(|| async { Redirect::to("/system") }))
        .merge(system)
        .merge(admin)
        .fallback_service(unknown)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::outer,
        ))
        .with_state(state.clone());
    security::headers(router, &state.config).layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// `/metrics` alone, for a listener of its own (`serve --metrics-bind`, with
/// the console built with `metrics_elsewhere`): the same series, and the
/// token when one is set; every other path is 404.
pub fn metrics_router(app: App, token: Option<MetricsToken>) -> Router {
    Router::new().route("/metrics", health::metrics_route(app, token))
}

/// Serves a router on a bound listener, with the peer address available to
/// handlers (client ip, SR-003).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
