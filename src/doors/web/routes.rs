//! Every route of both planes, declared once with the access it needs and
//! grouped by how it answers (pages or JSON). A route can only be added
//! here, and [`build`] puts each behind its guard, so it cannot be added
//! without one; the methods a path does not declare answer behind the same
//! guard. The tests walk [`table`] with every kind of visitor and method.

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use super::kit::guard::{guarded, other_methods};
use super::kit::{Format, WebState};
use super::{admin, alerts, api, audit, dashboard, openapi, run_controls, runbooks, runs, signin};
use crate::accounts::Plane;
use crate::domain::Capability;

pub use super::kit::{Access, RouteInfo};

struct Route {
    info: RouteInfo,
    handler: MethodRouter<WebState>,
}

/// A group of routes of one plane answering in one format.
struct Group {
    plane: Plane,
    format: Format,
    routes: Vec<Route>,
}

impl Group {
    fn new(plane: Plane, format: Format) -> Group {
        Group {
            plane,
            format,
            routes: Vec::new(),
        }
    }

    fn get(self, path: &'static str, access: Access, handler: MethodRouter<WebState>) -> Group {
        self.route("GET", path, access, handler)
    }

    fn post(self, path: &'static str, access: Access, handler: MethodRouter<WebState>) -> Group {
        self.route("POST", path, access, handler)
    }

    fn route(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        handler: MethodRouter<WebState>,
    ) -> Group {
        let info = RouteInfo {
            plane: self.plane,
            method,
            path,
            access,
            format: self.format,
        };
        self.routes.push(Route { info, handler });
        self
    }
}

fn groups() -> Vec<Group> {
    use Access::{Capability as Cap, Public, SignedIn};
    use Format::{Html, Json};
    use Plane::{Admin as A, System as S};
    const VIEW: Capability = Capability::RUNBOOKS_VIEW;
    const RUN: Capability = Capability::RUNBOOKS_RUN;
    const OPS: Capability = Capability::OPERATIONS_VIEW;
    const ALERTS: Capability = Capability::ALERTS_MANAGE;
    vec![
        // /system: the operator console
        Group::new(S, Html)
            .get("/system/login", Public, get(signin::system_login_page))
            .post("/system/login", Public, post(signin::system_login))
            .post("/system/logout", SignedIn, post(signin::system_logout))
            .get("/system", SignedIn, get(dashboard::dashboard))
            .get(
                "/system/dashboard/active",
                Cap(OPS),
                get(dashboard::active_fragment),
            )
            .get(
                "/system/dashboard/failures",
                Cap(OPS),
                get(dashboard::failures_fragment),
            )
            .get(
                "/system/dashboard/recent",
                Cap(OPS),
                get(dashboard::recent_fragment),
            )
            .get(
                "/system/dashboard/pending",
                Cap(VIEW),
                get(dashboard::pending_fragment),
            )
            .get("/system/notifications/bell", SignedIn, get(dashboard::bell))
            .get(
                "/system/tenants/options",
                Cap(VIEW),
                get(runbooks::tenant_options),
            )
            .get("/system/runs/{id}/counts", Cap(OPS), get(runs::run_counts))
            .get(
                "/system/runs/{id}/tenants",
                Cap(OPS),
                get(runs::run_tenants_fragment),
            )
            .get(
                "/system/notifications",
                SignedIn,
                get(dashboard::notifications),
            )
            .post(
                "/system/notifications/read-all",
                SignedIn,
                post(dashboard::mark_all_read),
            )
            .post(
                "/system/notifications/{id}/read",
                SignedIn,
                post(dashboard::mark_read),
            )
            .get("/system/runbooks", Cap(VIEW), get(runbooks::runbooks))
            .get("/system/runbooks/{key}", Cap(VIEW), get(runbooks::runbook))
            .post(
                "/system/runbooks/{key}/start",
                Cap(RUN),
                post(runbooks::start),
            )
            .get("/system/runs", Cap(OPS), get(runs::runs))
            .get("/system/runs/{id}", Cap(OPS), get(runs::view_run))
            .get("/system/runs/{id}/live", Cap(OPS), get(runs::run_live))
            .get(
                "/system/runs/{id}/cancel",
                Cap(RUN),
                get(runs::cancel_confirm),
            )
            .post("/system/runs/{id}/cancel", Cap(RUN), post(runs::cancel))
            .get(
                "/system/runs/{id}/retry-failed",
                Cap(RUN),
                get(runs::retry_confirm),
            )
            .post(
                "/system/runs/{id}/retry-failed",
                Cap(RUN),
                post(runs::retry_failed),
            )
            .get("/system/audit", Cap(OPS), get(audit::audit_log)),
        // /system/runs/{id}: the operator's controls over a run
        Group::new(S, Html)
            .get(
                "/system/runs/{id}/tenants.csv",
                Cap(OPS),
                get(run_controls::tenants_csv),
            )
            .post(
                "/system/runs/{id}/pause",
                Cap(RUN),
                post(run_controls::pause),
            )
            .post(
                "/system/runs/{id}/resume",
                Cap(RUN),
                post(run_controls::resume),
            )
            .post(
                "/system/runs/{id}/limits",
                Cap(RUN),
                post(run_controls::set_limits),
            )
            .post(
                "/system/runs/{id}/retry",
                Cap(RUN),
                post(run_controls::retry),
            ),
        Group::new(S, Json)
            .get(
                "/system/api/runs/{id}/tenants",
                Cap(OPS),
                get(run_controls::api_tenants),
            )
            .post(
                "/system/api/runs/{id}/pause",
                Cap(RUN),
                post(run_controls::api_pause),
            )
            .post(
                "/system/api/runs/{id}/resume",
                Cap(RUN),
                post(run_controls::api_resume),
            )
            .post(
                "/system/api/runs/{id}/limits",
                Cap(RUN),
                post(run_controls::api_limits),
            )
            .post(
                "/system/api/runs/{id}/retry",
                Cap(RUN),
                post(run_controls::api_retry),
            ),
        // /system/alerts: destinations, rules and deliveries (FR-009)
        Group::new(S, Html)
            .get("/system/alerts", Cap(ALERTS), get(alerts::index))
            .post(
                "/system/alerts/destinations",
                Cap(ALERTS),
                post(alerts::add_destination),
            )
            .post(
                "/system/alerts/destinations/{id}/test",
                Cap(ALERTS),
                post(alerts::test_destination),
            )
            .get(
                "/system/alerts/destinations/{id}/delete",
                Cap(ALERTS),
                get(alerts::confirm_remove_destination),
            )
            .post(
                "/system/alerts/destinations/{id}/delete",
                Cap(ALERTS),
                post(alerts::remove_destination),
            )
            .post("/system/alerts/rules", Cap(ALERTS), post(alerts::add_rule))
            .get(
                "/system/alerts/rules/{id}/delete",
                Cap(ALERTS),
                get(alerts::confirm_remove_rule),
            )
            .post(
                "/system/alerts/rules/{id}/delete",
                Cap(ALERTS),
                post(alerts::remove_rule),
            )
            .get(
                "/system/alerts/destinations/{id}/edit",
                Cap(ALERTS),
                get(alerts::edit_destination_page),
            )
            .post(
                "/system/alerts/destinations/{id}/edit",
                Cap(ALERTS),
                post(alerts::edit_destination),
            )
            .post(
                "/system/alerts/destinations/{id}/enable",
                Cap(ALERTS),
                post(alerts::enable_destination),
            )
            .post(
                "/system/alerts/destinations/{id}/disable",
                Cap(ALERTS),
                post(alerts::disable_destination),
            )
            .get(
                "/system/alerts/rules/{id}/edit",
                Cap(ALERTS),
                get(alerts::edit_rule_page),
            )
            .post(
                "/system/alerts/rules/{id}/edit",
                Cap(ALERTS),
                post(alerts::edit_rule),
            )
            .post(
                "/system/alerts/rules/{id}/enable",
                Cap(ALERTS),
                post(alerts::enable_rule),
            )
            .post(
                "/system/alerts/rules/{id}/disable",
                Cap(ALERTS),
                post(alerts::disable_rule),
            )
            .post(
                "/system/alerts/deliveries/{id}/retry",
                Cap(ALERTS),
                post(alerts::retry_delivery),
            ),
        // /system/api: the same service in JSON
        Group::new(S, Json)
            .get("/system/api/openapi.json", SignedIn, get(openapi::document))
            .get("/system/api/runbooks", Cap(VIEW), get(api::runbooks))
            .get(
                "/system/api/runbooks/{key}/preflight",
                Cap(VIEW),
                get(api::preflight),
            )
            .post(
                "/system/api/runbooks/{key}/start",
                Cap(RUN),
                post(api::start),
            )
            .get("/system/api/runs", Cap(OPS), get(api::runs))
            .get("/system/api/runs/{id}", Cap(OPS), get(api::run))
            .post("/system/api/runs/{id}/cancel", Cap(RUN), post(api::cancel))
            .post(
                "/system/api/runs/{id}/retry-failed",
                Cap(RUN),
                post(api::retry_failed),
            ),
        // /admin: the customer plane, read-only (FR-001)
        Group::new(A, Html)
            .get("/admin/login", Public, get(signin::admin_login_page))
            .post("/admin/login", Public, post(signin::admin_login))
            .post("/admin/logout", SignedIn, post(signin::admin_logout))
            .get("/admin", SignedIn, get(admin::home))
            .get("/admin/findings", SignedIn, get(admin::findings))
            .get("/admin/runs", SignedIn, get(admin::runs))
            .get("/admin/runs/{id}", SignedIn, get(admin::view_run)),
    ]
}

fn routes(plane: Plane) -> impl Iterator<Item = Route> {
    groups()
        .into_iter()
        .filter(move |g| g.plane == plane)
        .flat_map(|g| g.routes)
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
