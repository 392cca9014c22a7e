//! `/system/runs`: the runs, filtered by runbook, status, outcome,
//! initiator, tenant, dates and reason, counted and paged (and in JSON by
//! runbook, status and outcome), and one run in JSON. View run is in
//! `view_run`, its tenants in `tenants`, what an operator does to a run in
//! `controls`, `confirm` and `retry`.

mod confirm;
pub mod controls;
mod path;
pub mod present;
pub mod retry;
pub mod tenants;
pub mod view_run;

pub use confirm::{cancel_confirm, counts, retry_failed_confirm};
pub use controls::{cancel, limits, pause, resume};
pub use retry::{retry, retry_failed, retry_page};
pub use tenants::{tenants, tenants_fragment};
pub use view_run::{live, view_run};

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};

use super::kit::format::plural;
use super::kit::views::filters;
use super::kit::{Chrome, Ctx, Pager, Query, RunId, Text, WebError, field_error, page_with};
use super::openapi::errors::ReadErrors;
use super::openapi::inputs;
use crate::console::RunListFilter;
use crate::runs::{Run, RunFilter};
use path::RunPath;
use present::{OUTCOME_LABELS, RunView, STATUS_LABELS};

const PAGE_SIZE: i64 = 25;
/// Runs answered by `GET /system/api/runs`.
const RUNS_LIMIT: i64 = 50;

/// The runs page's filters as typed (and shown again, and kept by the pager).
#[derive(Deserialize, Serialize, Default)]
pub struct RunsFilter {
    runbook: Text,
    status: Text,
    outcome: Text,
    initiator: Text,
    tenant: Text,
    from: Text,
    to: Text,
    reason: Text,
    #[serde(skip_serializing)]
    page: Text,
}

const FIELDS: [&str; 8] = [
    "runbook",
    "status",
    "outcome",
    "initiator",
    "tenant",
    "from",
    "to",
    "reason",
];

impl RunsFilter {
    fn filter(&self) -> RunListFilter {
        RunListFilter {
            runbook: self.runbook.owned(),
            status: self.status.owned(),
            outcome: self.outcome.owned(),
            initiator: self.initiator.owned(),
            tenant: self.tenant.owned(),
            from: self.from.owned(),
            to: self.to.owned(),
            reason: self.reason.owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "system/runs.html")]
struct RunsPage {
    chrome: Chrome,
    lines: Vec<RunView>,
    runbooks: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    q: RunsFilter,
    total: String,
    pager: Pager,
    error_field: &'static str,
    error: String,
}

pub async fn runs(cx: Ctx, Query(q): Query<RunsFilter>) -> Result<Response, WebError> {
    let state = &cx.state;
    let listed = match q.page.page() {
        Ok(page) => {
            let lists = state.app.run_lists();
            lists
                .run_list(&cx.op.identity, &q.filter(), page, PAGE_SIZE)
                .await
        }
        Err(e) => Err(e),
    };
    let (list, status, error_field, error) = match listed {
        Ok(list) => (Some(list), StatusCode::OK, "", String::new()),
        Err(e) if e.is_caller_error() => {
            let (field, message) = field_error(&e.to_string(), &FIELDS);
            (None, WebError::from(e).status, field, message)
        }
        Err(e) => return Err(e.into()),
    };
    let (lines, total, page, pages) = match list {
        Some(l) => (RunView::all(state, l.runs), l.total, l.page, l.pages),
        None => (vec![], 0, 1, 1),
    };
    let service = state.app.runbooks();
    let runbooks = service
        .keys()
        .iter()
        .map(|k| (k.to_string(), cx.title_of(k)))
        .collect();
    page_with(
        status,
        &RunsPage {
            chrome: cx.chrome("runs").await?,
            lines,
            runbooks,
            statuses: STATUS_LABELS.to_vec(),
            outcomes: OUTCOME_LABELS.to_vec(),
            total: plural(total, "run"),
            pager: Pager::counted("/system/runs", &q, "page", page, pages),
            q,
            error_field,
            error,
        },
    )
}

/// Query of `GET /system/api/runs`.
#[derive(Deserialize)]
pub struct RunsQuery {
    runbook: Text,
    status: Text,
    outcome: Text,
    page: Text,
}

impl utoipa::IntoParams for RunsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        use inputs::query;
        vec![
            query(
                "runbook",
                false,
                "Only runs of this runbook.",
                inputs::filter(),
            ),
            query(
                "status",
                false,
                "Only runs in this status (blank: any).",
                inputs::status(),
            ),
            query(
                "outcome",
                false,
                "Only runs with this outcome (blank: any).",
                inputs::outcome(),
            ),
            query(
                "page",
                false,
                "Page number from 1, 50 runs a page, newest first.",
                inputs::page(),
            ),
        ]
    }
}

/// Runs, newest first, filtered and paginated.
#[utoipa::path(
    get,
    path = "/system/api/runs",
    tag = "runs",
    params(RunsQuery),
    responses((status = 200, description = "A page of runs", body = [Run]), ReadErrors)
)]
pub async fn runs_json(cx: Ctx, Query(q): Query<RunsQuery>) -> Result<Response, WebError> {
    let filter = RunFilter {
        limit: RUNS_LIMIT,
        offset: (q.page.page()? - 1) * RUNS_LIMIT,
        ..RunFilter::parse(q.runbook.get(), q.status.get(), q.outcome.get())?
    };
    let runs = cx.state.app.runs().runs(&cx.actor(), &filter).await?;
    Ok(Json(runs).into_response())
}

/// One run (Appendix A).
#[utoipa::path(
    get,
    path = "/system/api/runs/{id}",
    tag = "runs",
    params(RunPath),
    responses((status = 200, description = "The run", body = Run), ReadErrors)
)]
pub async fn run_json(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    let run = cx.state.app.runs().run(&cx.actor(), id).await?;
    Ok(Json(run).into_response())
}
