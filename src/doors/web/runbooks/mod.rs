//! `/system/runbooks`: the runbooks an operator may see, preflight of one
//! (`?scope=&tenant=`, bookmarkable) with its per-tenant table paged, the
//! tenant search of the scope picker, and starting with a reason — checked
//! against a fresh count, so what was confirmed is what starts. The same
//! in JSON is in `api`.

pub mod api;
mod preflight_view;

pub use api::{preflight_json, runbooks_json, start_json};

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::kit::format::count;
use super::kit::labelled_error;
use super::kit::views::filters;
use super::kit::{Chrome, Ctx, Key, Query, SignedForm, Text, WebError, opt, page, page_with};
use crate::console::TenantChoice;
use crate::error::{Error, Result};
use crate::runbooks::{Drift, Preflight, Reviewed, RunbookInfo, ScopeRequest};
use crate::runs::RunLimits;
use preflight_view::{PreflightView, TableAsk};

/// Tenants the scope picker's search answers at most.
const TENANT_OPTIONS: i64 = 20;
/// A start whose fresh count moved more than this (in percent) from the
/// preflight the operator reviewed shows the new figures first.
/// The start form's fields and their labels (what a message calls them).
const FIELDS: [(&str, &str); 6] = [
    ("scope", "Scope"),
    ("tenant", "Tenant"),
    ("reason", "Reason"),
    ("max_concurrency", "Max concurrency"),
    ("max_errors", "Max errors"),
    ("min_finished", "Min finished"),
];

#[derive(Template)]
#[template(path = "system/runbooks.html")]
struct RunbooksPage {
    chrome: Chrome,
    runbooks: Vec<RunbookInfo>,
}

#[derive(Template)]
#[template(path = "system/runbook.html")]
struct RunbookPage {
    chrome: Chrome,
    runbook: RunbookInfo,
    scope: String,
    tenant: String,
    preflight: Option<PreflightView>,
    error_field: &'static str,
    error: String,
    notice: String,
    reason: String,
    /// The cap, budget and minimum as typed.
    limits: [String; 3],
    /// The confirmation box was ticked (kept when a start is refused).
    confirmed: bool,
    /// "Run not started" (a refused start) or "No preflight" (a bad scope).
    error_title: &'static str,
}

/// The scope picker's radios (swapped in when a tenant is typed).
#[derive(Template)]
#[template(path = "system/_tenant_options.html")]
struct TenantOptions {
    tenants: Vec<TenantChoice>,
    pick: bool,
    scope: String,
}

pub async fn runbooks(cx: Ctx) -> Result<Response, WebError> {
    let runbooks = cx.state.app.runbooks().list(&cx.actor())?;
    let chrome = cx.chrome("runbooks").await?;
    page(&RunbooksPage { chrome, runbooks })
}

/// What the runbook page shows besides the runbook: the scope picked, the
/// reason typed, the per-tenant table asked, and what is wrong.
#[derive(Default)]
struct Typed<'a> {
    scope: Option<&'a str>,
    tenant: Option<&'a str>,
    reason: &'a str,
    error: Option<Error>,
    notice: String,
    table_filter: &'a str,
    table_page: i64,
    /// The cap, budget and minimum typed on the start form.
    limits: [String; 3],
    /// A start was refused: the confirmation box as it was ticked.
    starting: bool,
    confirmed: bool,
}

/// The form's or query's `scope` (`all` or `tenant`) and `tenant`.
fn scope_request(scope: Option<&str>, tenant: Option<&str>) -> Result<ScopeRequest> {
    match scope {
        Some("all") => Ok(ScopeRequest::AllTenants),
        Some("tenant") => ScopeRequest::from_parts(false, Some(tenant.unwrap_or(""))),
        Some(other) => Err(Error::BadInput(format!(
            "unknown scope {other:?}: use all or tenant"
        ))),
        None => Err(Error::BadInput("choose a scope: all or tenant".into())),
    }
}

/// The scope as asked: a tenant typed with no scope chosen is the one-tenant
/// scope; a tenant typed with "all tenants" chosen is a question, not a guess.
fn scope_of(scope: Option<&str>, tenant: Option<&str>) -> Result<ScopeRequest> {
    match (scope, tenant) {
        (None, Some(_)) => scope_request(Some("tenant"), tenant),
        (Some("all"), Some(t)) => Err(Error::BadInput(format!(
            "scope: you typed the tenant {t:?} but chose all tenants; choose one tenant, or clear the tenant"
        ))),
        _ => scope_request(scope, tenant),
    }
}

/// The runbook page, with preflight when a scope is given; bad input is
/// shown beside its field with the page's status.
async fn runbook_page(cx: &Ctx, key: &str, typed: Typed<'_>) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.runbooks(), cx.actor());
    let info = service.info(&actor, key)?;
    let mut error = typed.error;
    let asked = typed.scope.is_some() || typed.tenant.is_some();
    let mut preflight = None;
    if asked {
        // Shown again with an error of the reason too, so it can be fixed
        // in place; the first error found is the one shown.
        let counted = match scope_of(typed.scope, typed.tenant) {
            Ok(request) => service.preflight(&actor, info.key, &request).await,
            Err(e) => Err(e),
        };
        match counted {
            Ok(p) => preflight = Some(p),
            Err(e) if e.is_caller_error() => {
                error.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (status, error_field, message) = match error {
        Some(e) => {
            let e = plain(e);
            let (field, message) = labelled_error(&e.to_string(), &FIELDS);
            (WebError::from(e).status, field, message)
        }
        None => (StatusCode::OK, "", String::new()),
    };
    let scope = match (typed.scope, typed.tenant) {
        (None, Some(_)) => "tenant",
        (Some(s), _) => s,
        (None, None) => "all",
    };
    let tenant = typed.tenant.unwrap_or("").trim().to_owned();
    let noun = service.item_noun(info.key)?;
    let preflight = preflight.map(|p: Preflight| {
        let mut pairs = vec![("scope", scope.to_owned())];
        if !tenant.is_empty() {
            pairs.push(("tenant", tenant.clone()));
        }
        let ask = TableAsk {
            filter: typed.table_filter,
            page: typed.table_page,
            pairs,
            path: format!("/system/runbooks/{}", info.key),
        };
        PreflightView::of(p, noun, ask)
    });
    let status = match (&typed.notice, status) {
        (n, StatusCode::OK) if !n.is_empty() => StatusCode::CONFLICT,
        (_, s) => s,
    };
    page_with(
        status,
        &RunbookPage {
            chrome: cx.chrome("runbooks").await?,
            runbook: info,
            scope: scope.to_owned(),
            tenant,
            preflight,
            error_field,
            error: message,
            notice: typed.notice,
            reason: typed.reason.to_owned(),
            limits: typed.limits,
            confirmed: typed.confirmed,
            error_title: match typed.starting {
                true => "Run not started",
                false => "No preflight",
            },
        },
    )
}

/// The service's words for an unknown tenant, as an operator would say it.
fn plain(e: Error) -> Error {
    match e {
        Error::Unknown(m) if m.starts_with("unknown tenant") => {
            let id = m.split('"').nth(1).unwrap_or("").to_owned();
            Error::Unknown(format!(
                "tenant: unknown tenant \u{201c}{id}\u{201d}: no tenant has this external id; pick one from the suggestions"
            ))
        }
        other => other,
    }
}

/// The runbook page's query: the scope, and the per-tenant table's filter
/// and page.
#[derive(Deserialize)]
pub struct RunbookQuery {
    #[serde(flatten)]
    scope: api::ScopeQuery,
    pq: Text,
    pp: Text,
}

pub async fn runbook(
    cx: Ctx,
    Key(key): Key,
    Query(q): Query<RunbookQuery>,
) -> Result<Response, WebError> {
    let typed = Typed {
        scope: opt(&q.scope.scope),
        tenant: opt(&q.scope.tenant),
        table_filter: q.pq.as_str(),
        table_page: q.pp.page()?,
        ..Typed::default()
    };
    runbook_page(&cx, &key, typed).await
}

#[derive(Deserialize)]
pub struct TenantOptionsQuery {
    tenant: Option<String>,
    /// Set by the runbook page: typing a tenant picks the one-tenant scope.
    pick: Option<String>,
}

/// Tenants matching what was typed, as the options of the picker's
/// datalist (and, for the runbook page, its radios with "one tenant" on).
pub async fn tenant_options(
    cx: Ctx,
    Query(q): Query<TenantOptionsQuery>,
) -> Result<Response, WebError> {
    let typed = opt(&q.tenant);
    let console = cx.state.app.run_lists();
    let tenants = console.search_tenants(&cx.op.identity, typed, TENANT_OPTIONS);
    let tenants = tenants.await?;
    page(&TenantOptions {
        tenants,
        pick: q.pick.is_some() && typed.is_some(),
        scope: "tenant".into(),
    })
}

/// The start form: the API's start, and the preflight the operator
/// reviewed (tenants, items, active run).
#[derive(Deserialize)]
pub struct StartForm {
    #[serde(flatten)]
    start: api::StartBody,
    seen_tenants: Option<String>,
    seen_items: Option<String>,
    seen_active: Option<String>,
    /// The "I have reviewed the preflight" box.
    confirm: Option<String>,
}

/// What changed between the preflight the operator reviewed and a fresh
/// count, in words; empty when nothing did (beyond a few percent).
fn drift(form: &StartForm, fresh: &Preflight) -> String {
    let number = |v: &Option<String>| opt(v).and_then(|s| s.parse::<i64>().ok());
    let (Some(tenants), Some(items)) = (number(&form.seen_tenants), number(&form.seen_items))
    else {
        // Not sent from the page (a script): nothing was reviewed.
        return String::new();
    };
    let reviewed = Reviewed {
        tenants,
        items,
        active_run_id: number(&form.seen_active),
    };
    let changes: Vec<String> = fresh
        .drift_since(&reviewed)
        .into_iter()
        .map(|d| match d {
            Drift::Items { was, now } => format!("items pending {} → {}", count(was), count(now)),
            Drift::Tenants { was, now } => format!("tenants {} → {}", count(was), count(now)),
            Drift::NoLongerActive(a) => format!("run #{a} is no longer active"),
            Drift::NowActive(b) => format!("run #{b} is now active"),
            Drift::StartedMeanwhile(b) => format!("run #{b} was started meanwhile"),
            Drift::NothingLeft => "there is nothing left to do".into(),
        })
        .collect();
    if changes.is_empty() {
        return String::new();
    }
    format!(
        "The figures changed since the preflight you reviewed: {}. Review the new preflight below and confirm again.",
        changes.join("; ")
    )
}

pub async fn start(
    cx: Ctx,
    Key(key): Key,
    SignedForm(form): SignedForm<StartForm>,
) -> Result<Response, WebError> {
    let (service, actor) = (cx.state.app.runbooks(), cx.actor());
    // An unknown runbook is a 404 page, not a form to fix.
    service.runbook(&key)?;
    let reason = form.start.reason.as_deref().unwrap_or("");
    let (scope, tenant) = (opt(&form.start.scope), opt(&form.start.tenant));
    let mut notice = String::new();
    let limits = RunLimits::parse(
        opt(&form.start.max_concurrency),
        opt(&form.start.max_errors),
        opt(&form.start.min_finished),
    );
    let result = match (scope_of(scope, tenant), limits) {
        (Ok(request), Ok(limits)) => match service.recount(&actor, &key, &request).await {
            Ok(fresh) => {
                notice = drift(&form, &fresh);
                if notice.is_empty() {
                    service
                        .start_with_limits(&actor, &key, &request, Some(reason), limits)
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            }
            Err(e) => Err(e),
        },
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let error = match result {
        Ok(Some(ensured)) => {
            return Ok(Redirect::to(&format!("/system/runs/{}", ensured.run.id)).into_response());
        }
        Ok(None) => None,
        Err(e @ (Error::BadInput(_) | Error::Unknown(_) | Error::NotFound(_))) => Some(e),
        Err(e) => return Err(e.into()),
    };
    // Show the form again with what was typed and what is wrong or new.
    let typed = Typed {
        scope,
        tenant,
        reason,
        error,
        notice,
        table_page: 1,
        limits: [
            &form.start.max_concurrency,
            &form.start.max_errors,
            &form.start.min_finished,
        ]
        .map(|v| opt(v).unwrap_or("").to_owned()),
        starting: true,
        confirmed: form.confirm.is_some(),
        ..Typed::default()
    };
    runbook_page(&cx, &key, typed).await
}
