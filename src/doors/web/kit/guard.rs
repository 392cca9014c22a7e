//! The access a route needs and the guard that enforces it (SR-001,
//! SR-002). The route table wraps every route in [`guarded`], so a route
//! cannot exist without its guard; the guard also gives errors the body of
//! the route group's format.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, any};
use tower_sessions::Session;

use super::cookies::cookie_value;
use super::error::{Format, WebError, not_found};
use super::error_page::{Asker, finish_for};
use super::state::{WebState, cookie_name};
use crate::accounts::{Plane, SignedIn};
use crate::domain::{Capability, CapabilitySet};

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

/// One route: its plane, method, path pattern, access, and how it answers.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub plane: Plane,
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub format: Format,
}

/// The route pattern that answered, for request metrics.
#[derive(Debug, Clone, Copy)]
pub struct RouteLabel(pub &'static str);

#[derive(Clone)]
struct Guard {
    state: WebState,
    info: RouteInfo,
}

/// A handler behind the guard of its route.
pub fn guarded(
    state: &WebState,
    info: RouteInfo,
    handler: MethodRouter<WebState>,
) -> MethodRouter<WebState> {
    let guard = Guard {
        state: state.clone(),
        info,
    };
    handler.route_layer(middleware::from_fn_with_state(guard, guard_fn))
}

/// Every method a path does not declare, behind the same guard: whoever the
/// guard turns away gets exactly its answer (the unknown-path 404 for the
/// other plane's session, sign-in for nobody), so no method tells a visitor
/// that a path of the other plane exists (SR-001, SR-002). Only a visitor of
/// the path's plane learns 405 and the methods the path has. Built with
/// `any`, so axum adds no `Allow` header of its own to the guard's answers.
pub fn other_methods(state: &WebState, declared: &[RouteInfo]) -> MethodRouter<WebState> {
    let Some(first) = declared.first() else {
        return MethodRouter::new();
    };
    let public = declared.iter().any(|r| r.access == Access::Public);
    let info = RouteInfo {
        method: "*",
        access: if public {
            Access::Public
        } else {
            Access::SignedIn
        },
        ..*first
    };
    let allow = declared
        .iter()
        .flat_map(|r| [Some(r.method), (r.method == "GET").then_some("HEAD")])
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let guard = Guard {
        state: state.clone(),
        info,
    };
    let answer = move |method: Method| async move {
        let message = format!("This address does not answer {method}; it answers {allow}.");
        let mut response = WebError::new(StatusCode::METHOD_NOT_ALLOWED, message)
            .in_format(info.format)
            .into_response();
        if let Ok(allow) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    };
    any(answer).layer(middleware::from_fn_with_state(guard, guard_fn))
}

async fn guard_fn(State(g): State<Guard>, mut request: Request, next: Next) -> Response {
    let checked = check(&g, &mut request).await;
    // Who asked, for an error page inside their chrome.
    let asker = Asker::of(&request);
    let response = match checked {
        Ok(()) => {
            // The handler learns its route's format (and plane) from here.
            request.extensions_mut().insert(g.info);
            next.run(request).await
        }
        Err(response) => response,
    };
    let mut response = finish_for(&g.state, response, g.info.format, &asker).await;
    response.extensions_mut().insert(RouteLabel(g.info.path));
    response
}

/// Finds who is signed in to the route's plane (their session and their
/// row in one read) and puts their identity in the request; answers their
/// capabilities.
async fn sign_in_of(
    g: &Guard,
    request: &mut Request,
    session: &Session,
) -> Result<Option<CapabilitySet>, WebError> {
    // The session the session layer took from the cookie, so the person and
    // the session's CSRF token come from one session.
    let Some(id) = session.id() else {
        return Ok(None);
    };
    let signed_in = g
        .state
        .app
        .accounts()
        .signed_in_to(g.info.plane, &id)
        .await?;
    Ok(match signed_in {
        Some(SignedIn::Operator(op)) => {
            let caps = op.capabilities.clone();
            request.extensions_mut().insert(op);
            Some(caps)
        }
        Some(SignedIn::Customer(user)) => {
            request.extensions_mut().insert(user);
            Some(CapabilitySet::default())
        }
        None => None,
    })
}

async fn check(g: &Guard, request: &mut Request) -> Result<(), Response> {
    let path = request.uri().path().to_owned();
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return Err(WebError::internal().into_response());
    };
    let signed_in = sign_in_of(g, request, &session)
        .await
        .map_err(IntoResponse::into_response)?;
    if g.info.access == Access::Public {
        return Ok(());
    }
    let Some(caps) = signed_in else {
        // A session of the other plane: the same answer as an unknown path (SR-002).
        let other = g.info.plane.other();
        if let Some(v) = cookie_value(request.headers(), cookie_name(other))
            && g.state
                .sessions(other)
                .is_signed_in(v, other.user_key())
                .await
        {
            return Err(not_found(&path));
        }
        // No session (SR-001): the API answers 401, pages send to sign-in.
        if g.info.format == Format::Json {
            return Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "sign in first: POST /system/login",
            )
            .in_format(Format::Json)
            .into_response());
        }
        let login = format!("{}/login", g.info.plane.root());
        let next = request.uri().path_and_query().map(|p| p.as_str());
        let target = match serde_urlencoded::to_string([("next", next.unwrap_or(&login))]) {
            Ok(q) if request.method() == Method::GET => format!("{login}?{q}"),
            _ => login,
        };
        return Err(Redirect::to(&target).into_response());
    };
    if let Access::Capability(c) = g.info.access
        && !caps.has(c)
    {
        return Err(WebError::forbidden(format!(
            "Your account lacks the capability {c} needed here."
        ))
        .into_response());
    }
    Ok(())
}
