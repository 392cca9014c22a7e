//! Every route of both planes, declared once with the access it needs and
//! grouped by how it answers (pages or JSON). A route can only be added
//! here, and [`build`] puts each behind its guard, so it cannot be added
//! without one; the methods a path does not declare answer behind the same
//! guard. The tests walk [`table`] with every kind of visitor and method.
//! A control served in both formats is one handler on two routes: the
//! guard tells it the route's format.

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

/// `Plane Format { METHOD "path" access => handler; … } …`, one route a line.
macro_rules! routes {
    ($($plane:ident $format:ident { $($method:ident $path:literal $access:expr => $handler:expr;)* })*) => {
        vec![$($(Route {
            info: RouteInfo {
                plane: Plane::$plane,
                method: stringify!($method),
                path: $path,
                access: $access,
                format: Format::$format,
            },
            handler: on(MethodFilter::$method, $handler),
        },)*)*]
    };
}

fn all() -> Vec<Route> {
    use Access::{Capability as Cap, Public, SignedIn};
    const VIEW: Access = Cap(Capability::RUNBOOKS_VIEW);
    const RUN: Access = Cap(Capability::RUNBOOKS_RUN);
    const OPS: Access = Cap(Capability::OPERATIONS_VIEW);
    const ALERTS: Access = Cap(Capability::ALERTS_MANAGE);
    routes! {
        // /system: the operator console
        System Html {
            GET "/system/login" Public => signin::login_page;
            POST "/system/login" Public => signin::login;
            POST "/system/logout" SignedIn => signin::logout;
            GET "/system" SignedIn => dashboard::dashboard;
            GET "/system/dashboard/active" OPS => dashboard::active;
            GET "/system/dashboard/failures" OPS => dashboard::failures;
            GET "/system/dashboard/recent" OPS => dashboard::recent;
            GET "/system/dashboard/pending" VIEW => dashboard::pending;
            GET "/system/notifications/bell" SignedIn => dashboard::bell;
            GET "/system/tenants/options" VIEW => runbooks::tenant_options;
            GET "/system/runs/{id}/counts" OPS => runs::counts;
            GET "/system/runs/{id}/tenants" OPS => runs::tenants_fragment;
            GET "/system/runs/{id}/retry" RUN => runs::retry_page;
            GET "/system/notifications" SignedIn => dashboard::notifications;
            POST "/system/notifications/read-all" SignedIn => dashboard::mark_all_read;
            POST "/system/notifications/{id}/read" SignedIn => dashboard::mark_read;
            GET "/system/runbooks" VIEW => runbooks::runbooks;
            GET "/system/runbooks/{key}" VIEW => runbooks::runbook;
            POST "/system/runbooks/{key}/start" RUN => runbooks::start;
            GET "/system/runs" OPS => runs::runs;
            GET "/system/runs/{id}" OPS => runs::view_run;
            GET "/system/runs/{id}/live" OPS => runs::live;
            GET "/system/runs/{id}/cancel" RUN => runs::cancel_confirm;
            POST "/system/runs/{id}/cancel" RUN => runs::cancel;
            GET "/system/runs/{id}/retry-failed" RUN => runs::retry_failed_confirm;
            POST "/system/runs/{id}/retry-failed" RUN => runs::retry_failed;
            GET "/system/audit" OPS => audit::audit_log;
            // the operator's controls over a run
            GET "/system/runs/{id}/tenants.csv" OPS => runs::tenants;
            POST "/system/runs/{id}/pause" RUN => runs::pause;
            POST "/system/runs/{id}/resume" RUN => runs::resume;
            POST "/system/runs/{id}/limits" RUN => runs::limits;
            POST "/system/runs/{id}/retry" RUN => runs::retry;
        }
        System Json {
            GET "/system/api/runs/{id}/tenants" OPS => runs::tenants;
            POST "/system/api/runs/{id}/pause" RUN => runs::pause;
            POST "/system/api/runs/{id}/resume" RUN => runs::resume;
            POST "/system/api/runs/{id}/limits" RUN => runs::limits;
            POST "/system/api/runs/{id}/retry" RUN => runs::retry;
        }
        // /system/alerts: destinations, rules and deliveries (FR-009)
        System Html {
            GET "/system/alerts" ALERTS => alerts::index;
            POST "/system/alerts/destinations" ALERTS => alerts::add_destination;
            POST "/system/alerts/destinations/{id}/test" ALERTS => alerts::test_destination;
            GET "/system/alerts/destinations/{id}/delete" ALERTS => alerts::confirm_remove_destination;
            POST "/system/alerts/destinations/{id}/delete" ALERTS => alerts::remove_destination;
            POST "/system/alerts/rules" ALERTS => alerts::add_rule;
            GET "/system/alerts/rules/{id}/delete" ALERTS => alerts::confirm_remove_rule;
            POST "/system/alerts/rules/{id}/delete" ALERTS => alerts::remove_rule;
            GET "/system/alerts/destinations/{id}/edit" ALERTS => alerts::edit_destination_page;
            POST "/system/alerts/destinations/{id}/edit" ALERTS => alerts::edit_destination;
            POST "/system/alerts/destinations/{id}/enable" ALERTS => alerts::set_destination::<true>;
            POST "/system/alerts/destinations/{id}/disable" ALERTS => alerts::set_destination::<false>;
            GET "/system/alerts/rules/{id}/edit" ALERTS => alerts::edit_rule_page;
            POST "/system/alerts/rules/{id}/edit" ALERTS => alerts::edit_rule;
            POST "/system/alerts/rules/{id}/enable" ALERTS => alerts::set_rule::<true>;
            POST "/system/alerts/rules/{id}/disable" ALERTS => alerts::set_rule::<false>;
            POST "/system/alerts/deliveries/{id}/retry" ALERTS => alerts::retry_delivery;
        }
        // /system/api: the same service in JSON
        System Json {
            GET "/system/api/openapi.json" SignedIn => openapi::document;
            GET "/system/api/runbooks" VIEW => runbooks::runbooks_json;
            GET "/system/api/runbooks/{key}/preflight" VIEW => runbooks::preflight_json;
            POST "/system/api/runbooks/{key}/start" RUN => runbooks::start_json;
            GET "/system/api/runs" OPS => runs::runs_json;
            GET "/system/api/runs/{id}" OPS => runs::run_json;
            POST "/system/api/runs/{id}/cancel" RUN => runs::cancel;
            POST "/system/api/runs/{id}/retry-failed" RUN => runs::retry_failed;
        }
        // /admin: the customer plane, read-only (FR-001)
        Admin Html {
            GET "/admin/login" Public => signin::login_page;
            POST "/admin/login" Public => signin::login;
            POST "/admin/logout" SignedIn => signin::logout;
            GET "/admin" SignedIn => admin::home;
            GET "/admin/findings" SignedIn => admin::findings;
            GET "/admin/runs" SignedIn => admin::runs;
            GET "/admin/runs/{id}" SignedIn => admin::view_run;
        }
    }
}

fn routes(plane: Plane) -> impl Iterator<Item = Route> {
    all().into_iter().filter(move |r| r.info.plane == plane)
}

/// Every route of both planes (for tests and documentation).
pub fn table() -> Vec<RouteInfo> {
    routes(Plane::System)
        .chain(routes(Plane::Admin))
        .map(|r| r.info)
        .collect()
}

/// The router of one plane, each route behind its guard, and every method a
/// path does not declare behind the guard of that path.
pub fn build(state: &WebState, plane: Plane) -> Router<WebState> {
    let mut paths: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for route in routes(plane) {
        match paths.iter_mut().find(|(path, _)| *path == route.info.path) {
            Some((_, same)) => same.push(route),
            None => paths.push((route.info.path, vec![route])),
        }
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
