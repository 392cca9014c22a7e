//! Every route of both planes, declared once with the access it needs and
//! grouped by how it answers (pages or JSON). A route can only be added
//! here, and [`build`] puts each behind its guard, so it cannot be added
//! without one; the methods a path does not declare answer behind the same
//! guard. The tests walk [`table`] with every kind of visitor and method.
//! A control served in both formats is one handler on two routes: the
//! guard tells it the route's format.

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::kit::guard::{guarded, other_methods};
use super::kit::{Format, WebState};
use super::{admin, alerts, audit, dashboard, openapi, runbooks, runs, signin};
use crate::accounts::Plane;
use crate::domain::Capability;

pub use super::kit::{Access, RouteInfo};

struct Route {
    info: RouteInfo,
    handler: MethodRouter<WebState>,
}

/// `Plane Format { "path" access => { METHOD handler, … } … } …`: one path
/// a line, with the access all its methods need.
macro_rules! routes {
    ($($plane:ident $format:ident {
        $($path:literal $access:expr => { $($method:ident $handler:expr),+ })*
    })*) => {
        vec![$($($(Route {
            info: RouteInfo {
                plane: Plane::$plane,
                method: stringify!($method),
                path: $path,
                access: $access,
                format: Format::$format,
            },
            handler: on(MethodFilter::$method, $handler),
        },)+)*)*]
    };
}

fn all() -> Vec<Route> {
    use Access::{Capability as Cap, Public, SignedIn};
    const VIEW: Access = Cap(Capability::RUNBOOKS_VIEW);
    const RUN: Access = Cap(Capability::RUNBOOKS_RUN);
    const OPS: Access = Cap(Capability::OPERATIONS_VIEW);
    const ALERTS: Access = Cap(Capability::ALERTS_MANAGE);
    routes! {
        // sign-in and sign-out of both planes, one handler each
        System Html {
            "/system/login" Public => { GET signin::login_page, POST signin::login }
            "/system/logout" SignedIn => { POST signin::logout }
        }
        Admin Html {
            "/admin/login" Public => { GET signin::login_page, POST signin::login }
            "/admin/logout" SignedIn => { POST signin::logout }
        }
        // /system: the operator console
        System Html {
            "/system" SignedIn => { GET dashboard::dashboard }
            "/system/dashboard/active" OPS => { GET dashboard::active }
            "/system/dashboard/failures" OPS => { GET dashboard::failures }
            "/system/dashboard/recent" OPS => { GET dashboard::recent }
            "/system/dashboard/pending" VIEW => { GET dashboard::pending }
            "/system/notifications/bell" SignedIn => { GET dashboard::bell }
            "/system/notifications" SignedIn => { GET dashboard::notifications }
            "/system/notifications/read-all" SignedIn => { POST dashboard::mark_all_read }
            "/system/notifications/{id}/read" SignedIn => { POST dashboard::mark_read }
            "/system/tenants/options" VIEW => { GET runbooks::tenant_options }
            "/system/runbooks" VIEW => { GET runbooks::runbooks }
            "/system/runbooks/{key}" VIEW => { GET runbooks::runbook }
            "/system/runbooks/{key}/start" RUN => { POST runbooks::start }
            "/system/runs" OPS => { GET runs::runs }
            "/system/runs/{id}" OPS => { GET runs::view_run }
            "/system/runs/{id}/live" OPS => { GET runs::live }
            "/system/runs/{id}/counts" OPS => { GET runs::counts }
            "/system/runs/{id}/tenants" OPS => { GET runs::tenants_fragment }
            "/system/runs/{id}/tenants.csv" OPS => { GET runs::tenants }
            "/system/audit" OPS => { GET audit::audit_log }
            // the operator's controls over a run, each confirmed first where
            // it cannot be undone
            "/system/runs/{id}/cancel" RUN => { GET runs::cancel_confirm, POST runs::cancel }
            "/system/runs/{id}/retry-failed" RUN => { GET runs::retry_failed_confirm, POST runs::retry_failed }
            "/system/runs/{id}/retry" RUN => { GET runs::retry_page, POST runs::retry }
            "/system/runs/{id}/pause" RUN => { POST runs::pause }
            "/system/runs/{id}/resume" RUN => { POST runs::resume }
            "/system/runs/{id}/limits" RUN => { POST runs::limits }
        }
        // /system/alerts: destinations, rules and deliveries (FR-009)
        System Html {
            "/system/alerts" ALERTS => { GET alerts::index }
            "/system/alerts/destinations" ALERTS => { POST alerts::add_destination }
            "/system/alerts/destinations/{id}/test" ALERTS => { POST alerts::test_destination }
            "/system/alerts/destinations/{id}/delete" ALERTS => {
                GET alerts::confirm_remove_destination, POST alerts::remove_destination
            }
            "/system/alerts/destinations/{id}/edit" ALERTS => {
                GET alerts::edit_destination_page, POST alerts::edit_destination
            }
            "/system/alerts/destinations/{id}/enable" ALERTS => { POST alerts::set_destination::<true> }
            "/system/alerts/destinations/{id}/disable" ALERTS => { POST alerts::set_destination::<false> }
            "/system/alerts/rules" ALERTS => { POST alerts::add_rule }
            "/system/alerts/rules/{id}/delete" ALERTS => {
                GET alerts::confirm_remove_rule, POST alerts::remove_rule
            }
            "/system/alerts/rules/{id}/edit" ALERTS => { GET alerts::edit_rule_page, POST alerts::edit_rule }
            "/system/alerts/rules/{id}/enable" ALERTS => { POST alerts::set_rule::<true> }
            "/system/alerts/rules/{id}/disable" ALERTS => { POST alerts::set_rule::<false> }
            "/system/alerts/deliveries/{id}/retry" ALERTS => { POST alerts::retry_delivery }
        }
        // /system/api: the same service in JSON
        System Json {
            "/system/api/openapi.json" SignedIn => { GET openapi::document }
            "/system/api/runbooks" VIEW => { GET runbooks::runbooks_json }
            "/system/api/runbooks/{key}/preflight" VIEW => { GET runbooks::preflight_json }
            "/system/api/runbooks/{key}/start" RUN => { POST runbooks::start_json }
            "/system/api/runs" OPS => { GET runs::runs_json }
            "/system/api/runs/{id}" OPS => { GET runs::run_json }
            "/system/api/runs/{id}/tenants" OPS => { GET runs::tenants }
            "/system/api/runs/{id}/cancel" RUN => { POST runs::cancel }
            "/system/api/runs/{id}/retry-failed" RUN => { POST runs::retry_failed }
            "/system/api/runs/{id}/retry" RUN => { POST runs::retry }
            "/system/api/runs/{id}/pause" RUN => { POST runs::pause }
            "/system/api/runs/{id}/resume" RUN => { POST runs::resume }
            "/system/api/runs/{id}/limits" RUN => { POST runs::limits }
        }
        // /admin: the customer plane, read-only (FR-001)
        Admin Html {
            "/admin" SignedIn => { GET admin::home }
            "/admin/findings" SignedIn => { GET admin::findings }
            "/admin/runs" SignedIn => { GET admin::runs }
            "/admin/runs/{id}" SignedIn => { GET admin::view_run }
        }
    }
}

/// Every route of both planes (for tests and documentation).
pub fn table() -> Vec<RouteInfo> {
    all().into_iter().map(|r| r.info).collect()
}

/// The router of one plane, each route behind its guard, and every method a
/// path does not declare behind the guard of that path.
pub fn build(state: &WebState, plane: Plane) -> Router<WebState> {
    let mut paths: BTreeMap<&'static str, Vec<Route>> = BTreeMap::new();
    for route in all().into_iter().filter(|r| r.info.plane == plane) {
        paths.entry(route.info.path).or_default().push(route);
    }
    paths
        .into_iter()
        .fold(Router::new(), |router, (path, routes)| {
            let declared: Vec<RouteInfo> = routes.iter().map(|r| r.info).collect();
            let methods = routes
                .into_iter()
                .fold(other_methods(state, &declared), |methods, r| {
                    methods.merge(guarded(state, r.info, r.handler))
                });
            router.route(path, methods)
        })
}
