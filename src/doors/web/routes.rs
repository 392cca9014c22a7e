//! Every route of both planes, declared once with the access it needs, and
//! the guard that enforces it (SR-001, SR-002). A route can only be added
//! through [`routes`], so it cannot be added without a guard; the tests walk
//! [`table`] with every kind of visitor.

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use tower_sessions::Session;

use super::error::{Format, WebError, is_api, not_found};
use super::security::{ClientIp, RouteLabel};
use super::{ADMIN_COOKIE, SYSTEM_COOKIE, WebState, admin, alerts, api, system};
use crate::accounts::{CustomerUser, PlatformUser};
use crate::domain::{Capability, CapabilitySet};
use crate::runs::Initiator;
use crate::service::Actor;
use crate::storage::accounts as account_store;
use crate::storage::sessions::Plane;

/// Session key holding the signed-in operator's id (`/system`).
pub const OPERATOR_KEY: &str = "operator_id";
/// Session key holding the signed-in customer user's id (`/admin`).
pub const USER_KEY: &str = "user_id";
/// Session key holding the CSRF token of either plane.
pub const CSRF_KEY: &str = "csrf";

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the sign-in pages).
    Public,
    /// A session of the route's plane.
    SignedIn,
    /// A platform session holding this capability.
    Capability(Capability),
}

/// One route: its plane, method, path pattern and access.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub plane: Plane,
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

struct Route {
    info: RouteInfo,
    handler: MethodRouter<WebState>,
}

fn route(
    plane: Plane,
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: MethodRouter<WebState>,
) -> Route {
    Route {
        info: RouteInfo {
            plane,
            method,
            path,
            access,
        },
        handler,
    }
}

fn routes(plane: Plane) -> Vec<Route> {
    use Access::{Capability as Cap, Public, SignedIn};
    use Plane::{Admin as A, System as S};
    const VIEW: Capability = Capability::RUNBOOKS_VIEW;
    const RUN: Capability = Capability::RUNBOOKS_RUN;
    const OPS: Capability = Capability::OPERATIONS_VIEW;
    const ALERTS: Capability = Capability::ALERTS_MANAGE;
    let all = vec![
        // /system: the operator console
        route(S, "GET", "/system/login", Public, get(system::login_page)),
        route(
            S,
            "POST",
            "/system/login",
            Public,
            post(system::login_submit),
        ),
        route(S, "POST", "/system/logout", SignedIn, post(system::logout)),
        route(S, "GET", "/system", SignedIn, get(system::dashboard)),
        route(
            S,
            "GET",
            "/system/notifications",
            SignedIn,
            get(system::notifications),
        ),
        route(
            S,
            "POST",
            "/system/notifications/read-all",
            SignedIn,
            post(system::mark_all_read),
        ),
        route(
            S,
            "POST",
            "/system/notifications/{id}/read",
            SignedIn,
            post(system::mark_read),
        ),
        route(
            S,
            "GET",
            "/system/runbooks",
            Cap(VIEW),
            get(system::runbooks),
        ),
        route(
            S,
            "GET",
            "/system/runbooks/{key}",
            Cap(VIEW),
            get(system::runbook),
        ),
        route(
            S,
            "POST",
            "/system/runbooks/{key}/start",
            Cap(RUN),
            post(system::start),
        ),
        route(S, "GET", "/system/runs", Cap(OPS), get(system::runs)),
        route(
            S,
            "GET",
            "/system/runs/{id}",
            Cap(OPS),
            get(system::view_run),
        ),
        route(
            S,
            "GET",
            "/system/runs/{id}/live",
            Cap(OPS),
            get(system::run_live),
        ),
        route(
            S,
            "GET",
            "/system/runs/{id}/cancel",
            Cap(RUN),
            get(system::cancel_confirm),
        ),
        route(
            S,
            "POST",
            "/system/runs/{id}/cancel",
            Cap(RUN),
            post(system::cancel),
        ),
        route(
            S,
            "GET",
            "/system/runs/{id}/retry-failed",
            Cap(RUN),
            get(system::retry_confirm),
        ),
        route(
            S,
            "POST",
            "/system/runs/{id}/retry-failed",
            Cap(RUN),
            post(system::retry_failed),
        ),
        route(S, "GET", "/system/audit", Cap(OPS), get(system::audit_log)),
        // /system/alerts: destinations, rules and deliveries (FR-009)
        route(S, "GET", "/system/alerts", Cap(ALERTS), get(alerts::page)),
        route(
            S,
            "POST",
            "/system/alerts/destinations",
            Cap(ALERTS),
            post(alerts::add_destination),
        ),
        route(
            S,
            "POST",
            "/system/alerts/destinations/{id}/test",
            Cap(ALERTS),
            post(alerts::test_destination),
        ),
        route(
            S,
            "GET",
            "/system/alerts/destinations/{id}/delete",
            Cap(ALERTS),
            get(alerts::confirm_remove_destination),
        ),
        route(
            S,
            "POST",
            "/system/alerts/destinations/{id}/delete",
            Cap(ALERTS),
            post(alerts::remove_destination),
        ),
        route(
            S,
            "POST",
            "/system/alerts/rules",
            Cap(ALERTS),
            post(alerts::add_rule),
        ),
        route(
            S,
            "GET",
            "/system/alerts/rules/{id}/delete",
            Cap(ALERTS),
            get(alerts::confirm_remove_rule),
        ),
        route(
            S,
            "POST",
            "/system/alerts/rules/{id}/delete",
            Cap(ALERTS),
            post(alerts::remove_rule),
        ),
        // /system/api: the same service in JSON
        route(
            S,
            "GET",
            "/system/api/runbooks",
            Cap(VIEW),
            get(api::runbooks),
        ),
        route(
            S,
            "GET",
            "/system/api/runbooks/{key}/preflight",
            Cap(VIEW),
            get(api::preflight),
        ),
        route(
            S,
            "POST",
            "/system/api/runbooks/{key}/start",
            Cap(RUN),
            post(api::start),
        ),
        route(S, "GET", "/system/api/runs", Cap(OPS), get(api::runs)),
        route(S, "GET", "/system/api/runs/{id}", Cap(OPS), get(api::run)),
        route(
            S,
            "POST",
            "/system/api/runs/{id}/cancel",
            Cap(RUN),
            post(api::cancel),
        ),
        route(
            S,
            "POST",
            "/system/api/runs/{id}/retry-failed",
            Cap(RUN),
            post(api::retry_failed),
        ),
        // /admin: the customer plane, read-only (FR-001)
        route(A, "GET", "/admin/login", Public, get(admin::login_page)),
        route(A, "POST", "/admin/login", Public, post(admin::login_submit)),
        route(A, "POST", "/admin/logout", SignedIn, post(admin::logout)),
        route(A, "GET", "/admin", SignedIn, get(admin::home)),
        route(A, "GET", "/admin/findings", SignedIn, get(admin::findings)),
        route(A, "GET", "/admin/runs", SignedIn, get(admin::runs)),
        route(A, "GET", "/admin/runs/{id}", SignedIn, get(admin::view_run)),
    ];
    all.into_iter().filter(|r| r.info.plane == plane).collect()
}

/// Every route of both planes (for tests and documentation).
pub fn table() -> Vec<RouteInfo> {
    let mut t: Vec<RouteInfo> = routes(Plane::System).into_iter().map(|r| r.info).collect();
    t.extend(routes(Plane::Admin).into_iter().map(|r| r.info));
    t
}

/// The router of one plane, each route behind its guard.
pub fn build(state: &WebState, plane: Plane) -> Router<WebState> {
    let mut router = Router::new();
    for r in routes(plane) {
        let guard = Guard {
            state: state.clone(),
            info: r.info,
        };
        router = router.route(
            r.info.path,
            r.handler
                .route_layer(middleware::from_fn_with_state(guard, guard_fn)),
        );
    }
    router
}

#[derive(Clone)]
struct Guard {
    state: WebState,
    info: RouteInfo,
}

async fn guard_fn(State(g): State<Guard>, mut request: Request, next: Next) -> Response {
    let mut response = match check(&g, &mut request).await {
        Ok(()) => next.run(request).await,
        Err(response) => response,
    };
    response.extensions_mut().insert(RouteLabel(g.info.path));
    response
}

fn cookie_value<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn check(g: &Guard, request: &mut Request) -> Result<(), Response> {
    let path = request.uri().path().to_owned();
    let format = if is_api(&path) {
        Format::Json
    } else {
        Format::Html
    };
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return Err(
            WebError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                .in_format(format)
                .into_response(),
        );
    };
    let signed_in = match g.info.plane {
        Plane::System => match load_operator(&g.state, &session)
            .await
            .map_err(IntoResponse::into_response)?
        {
            Some(op) => {
                let caps = op.capabilities.clone();
                request.extensions_mut().insert(op);
                Some(caps)
            }
            None => None,
        },
        Plane::Admin => match load_customer(&g.state, &session)
            .await
            .map_err(IntoResponse::into_response)?
        {
            Some(c) => {
                request.extensions_mut().insert(c);
                Some(CapabilitySet::default())
            }
            None => None,
        },
    };
    if g.info.access == Access::Public {
        return Ok(());
    }
    let Some(caps) = signed_in else {
        // A session of the other plane: the same answer as an unknown path (SR-002).
        let (other_cookie, other_store, other_key) = match g.info.plane {
            Plane::System => (ADMIN_COOKIE, &g.state.admin_sessions, USER_KEY),
            Plane::Admin => (SYSTEM_COOKIE, &g.state.system_sessions, OPERATOR_KEY),
        };
        if let Some(v) = cookie_value(request, other_cookie)
            && other_store.is_signed_in(v, other_key).await
        {
            return Err(not_found(&path));
        }
        // No session (SR-001): the API answers 401, pages send to sign-in.
        if format == Format::Json {
            return Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: POST /system/login",
            )
            .json()
            .into_response());
        }
        let login = match g.info.plane {
            Plane::System => "/system/login",
            Plane::Admin => "/admin/login",
        };
        let next = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or(login);
        let target = match serde_urlencoded::to_string([("next", next)]) {
            Ok(q) if request.method() == axum::http::Method::GET => format!("{login}?{q}"),
            _ => login.to_owned(),
        };
        return Err(Redirect::to(&target).into_response());
    };
    if let Access::Capability(c) = g.info.access
        && !caps.has(c)
    {
        return Err(WebError::forbidden(format!(
            "Your account lacks the capability {c} needed here."
        ))
        .in_format(format)
        .into_response());
    }
    Ok(())
}

/// The signed-in operator of a `/system` request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub user: PlatformUser,
    pub capabilities: CapabilitySet,
    pub ip: String,
}

impl Operator {
    pub fn actor(&self) -> Actor {
        Actor {
            initiator: Initiator::PlatformUser {
                id: self.user.id,
                email: self.user.email.clone(),
            },
            capabilities: self.capabilities.clone(),
            ip: Some(self.ip.clone()),
        }
    }

    pub fn can(&self, c: Capability) -> bool {
        self.capabilities.has(c)
    }
}

/// The signed-in customer user of an `/admin` request.
#[derive(Debug, Clone)]
pub struct Customer {
    pub user: CustomerUser,
}

async fn load_operator(state: &WebState, session: &Session) -> Result<Option<Operator>, WebError> {
    let Some(id) = session.get::<i64>(OPERATOR_KEY).await? else {
        return Ok(None);
    };
    let user = account_store::platform_user(&state.app.db, id)
        .await?
        .filter(|u| u.active);
    Ok(user.map(|user| Operator {
        capabilities: CapabilitySet::from_stored(&user.capabilities),
        user,
        ip: String::new(),
    }))
}

async fn load_customer(state: &WebState, session: &Session) -> Result<Option<Customer>, WebError> {
    let Some(id) = session.get::<i64>(USER_KEY).await? else {
        return Ok(None);
    };
    Ok(account_store::customer_user(&state.app.db, id)
        .await?
        .map(|user| Customer { user }))
}

fn ip_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientIp>()
        .map(|c| c.0.clone())
        .unwrap_or_else(|| "unknown".into())
}

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut op = parts
            .extensions
            .get::<Operator>()
            .cloned()
            .ok_or_else(|| WebError::new(StatusCode::UNAUTHORIZED, "sign in first"))?;
        op.ip = ip_of(parts);
        Ok(op)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Customer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Customer>()
            .cloned()
            .ok_or_else(|| WebError::new(StatusCode::UNAUTHORIZED, "sign in first"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ip_of(parts)))
    }
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Some(t) = session.get::<String>(CSRF_KEY).await? {
        return Ok(t);
    }
    new_csrf_token(session).await
}

/// A fresh CSRF token (at sign-in, with the new session id).
pub async fn new_csrf_token(session: &Session) -> Result<String, WebError> {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}
