//! Who is asking: the signed-in operator or customer user the guard found,
//! and the client's address.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::WebError;
use crate::accounts::{CustomerIdentity, OperatorIdentity};
use crate::domain::{Actor, Capability};

/// The client's address: the socket peer, or what a trusted proxy says.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The signed-in operator of a `/system` request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub identity: OperatorIdentity,
    pub ip: String,
}

impl Operator {
    /// The operator as the services' actor.
    pub fn actor(&self) -> Actor {
        self.identity.actor(&self.ip)
    }

    pub fn can(&self, c: Capability) -> bool {
        self.identity.can(c)
    }
}

fn ip_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientIp>()
        .map(|c| c.0.clone())
        .unwrap_or_else(|| "unknown".into())
}

fn not_signed_in() -> WebError {
    WebError::new(StatusCode::UNAUTHORIZED, "sign in first")
}

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let identity = parts
            .extensions
            .get::<OperatorIdentity>()
            .cloned()
            .ok_or_else(not_signed_in)?;
        Ok(Operator {
            identity,
            ip: ip_of(parts),
        })
    }
}

/// The signed-in customer user of an `/admin` request.
impl<S: Send + Sync> FromRequestParts<S> for CustomerIdentity {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let identity = parts.extensions.get::<CustomerIdentity>().cloned();
        identity.ok_or_else(not_signed_in)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ip_of(parts)))
    }
}

/// Whether the visitor is already signed in to the route's plane (the
/// sign-in pages send them on instead).
pub struct AlreadySignedIn(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for AlreadySignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AlreadySignedIn(
            parts.extensions.get::<OperatorIdentity>().is_some()
                || parts.extensions.get::<CustomerIdentity>().is_some(),
        ))
    }
}
