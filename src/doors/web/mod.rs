//! The web door: the `/system` operator console and its JSON API, the
//! `/admin` customer plane, health and metrics. Handlers parse, call the
//! services, and present. The [`kit`] holds what every feature shares; each
//! feature is one module; every route is declared once in [`routes::table`]
//! with the access it needs, and the guard applies it.

mod admin;
mod alerts;
mod assets;
mod audit;
mod dashboard;
mod health;
mod kit;
pub mod openapi;
pub mod routes;
mod runbooks;
mod runs;
mod server;
mod signin;

pub use crate::console::DEMO_OPERATOR_EMAIL;
pub use kit::{ADMIN_COOKIE, MAX_BODY_BYTES, SYSTEM_COOKIE, WebConfig};
pub use routes::{Access, RouteInfo};
pub use server::{metrics_router, router_with, serve_on};
