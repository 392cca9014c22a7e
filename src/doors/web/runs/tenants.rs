//! A run's tenants: View run's box score (tenants per state, adding up to
//! the total) and per-tenant table — filtered by state, searched by
//! external id, sorted, paged, and polled by htmx while the run goes; the
//! filter form sits outside the polled part, so typing is never swapped
//! away — and the same tenants as JSON and as a CSV export.

use askama::Template;
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};

use super::super::kit::field_error;
use super::super::kit::format::{count, plural};
use super::super::kit::{Ctx, Format, Pager, Query, RunId, Text, WebError, page_with};
use super::super::openapi::errors::ReadErrors;
use super::super::openapi::inputs;
use super::path::RunPath;
use crate::domain::csv_export;
use crate::error::Result;
use crate::runs::{Run, TenantPage, TenantQuery, TenantRow, TenantState};

/// Tenant states with their labels, in box-score order.
pub const STATE_LABELS: [(TenantState, &str, &str); 6] = [
    (TenantState::Queued, "Queued", "queued"),
    (TenantState::Running, "Running", "running"),
    (TenantState::Succeeded, "Succeeded", "ok"),
    (TenantState::Failed, "Failed", "bad"),
    (TenantState::NotStarted, "Not started", "muted"),
    (TenantState::Cancelled, "Cancelled", "muted"),
];

/// The sorts the table offers, by their query value.
pub const SORTS: [(&str, &str); 7] = [
    ("external_id", "External id"),
    ("state", "State"),
    ("-items_updated", "Most items updated"),
    ("-items_failed", "Most items failed"),
    ("-duration", "Slowest first"),
    ("-attempts", "Most attempts"),
    ("-started_at", "Started last"),
];

pub fn label_of(state: TenantState) -> (&'static str, &'static str) {
    STATE_LABELS
        .iter()
        .find(|(s, _, _)| *s == state)
        .map(|(_, l, c)| (*l, *c))
        .unwrap_or(("", ""))
}

/// The tenants asked for (the table's filters, kept by its links).
#[derive(Deserialize, Serialize, Default, Clone, Debug)]
pub struct TenantsQuery {
    pub state: Text,
    pub q: Text,
    pub sort: Text,
    #[serde(skip_serializing)]
    pub page: Text,
    /// Tenants a page (the API's).
    #[serde(skip_serializing)]
    pub per_page: Text,
}

impl utoipa::IntoParams for TenantsQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        use inputs::query;
        let sort = "A column, `-` first (or `:desc` after) for descending (`-duration`).";
        vec![
            query(
                "state",
                false,
                "Only tenants in this state (blank: any).",
                inputs::state(),
            ),
            query(
                "q",
                false,
                "Part of the tenant's external id.",
                inputs::filter(),
            ),
            query("sort", false, sort, inputs::sort()),
            query("page", false, "Page number from 1.", inputs::page()),
            query(
                "per_page",
                false,
                "Tenants a page, at most 500.",
                inputs::per_page(),
            ),
        ]
    }
}

impl TenantsQuery {
    fn parse(&self, per_page: Option<&str>) -> Result<TenantQuery> {
        let (state, q, sort) = (self.state.get(), self.q.get(), self.sort.get());
        TenantQuery::parse(state, q, sort, self.page.get(), per_page)
    }
}

/// What the table applies to a [`TenantRow`]: the kit's, and a state's
/// label and class, items expected (`—` when not counted), how long it took.
pub(super) mod filters {
    pub use super::super::super::kit::views::filters::*;
    use super::{TenantState, label_of};
    use crate::doors::web::kit::format::{count as number, duration};

    pub fn label(s: &TenantState, _: &dyn askama::Values) -> askama::Result<&'static str> {
        Ok(label_of(*s).0)
    }

    pub fn class(s: &TenantState, _: &dyn askama::Values) -> askama::Result<&'static str> {
        Ok(label_of(*s).1)
    }

    pub fn expected(n: &Option<i64>, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(n.map(number).unwrap_or_else(|| "—".into()))
    }

    pub fn took(ms: &Option<i64>, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(ms.map(duration).unwrap_or_default())
    }
}

/// One state's part of the box score.
#[derive(Debug, Clone)]
pub struct ScorePart {
    pub value: &'static str,
    pub label: &'static str,
    pub class: &'static str,
    pub count: String,
    pub zero: bool,
}

/// The polled part: box score, table and pages.
#[derive(Debug, Clone)]
pub struct TenantTable {
    pub run_id: i64,
    pub active: bool,
    pub score: Vec<ScorePart>,
    pub total: String,
    pub rows: Vec<TenantRow>,
    pub summary: String,
    pub pager: Pager,
    /// The fragment's own URL with the same filters (what it polls).
    pub poll_url: String,
    pub csv_url: String,
    pub ask: TenantsQuery,
    pub error_field: &'static str,
    pub error: String,
    /// Served alone (the fragment htmx swaps in): its error is shown
    /// inside the table, since the form around it is not re-rendered.
    pub standalone: bool,
}

#[derive(Template)]
#[template(path = "system/_run_tenants.html")]
struct Fragment {
    table: TenantTable,
}

impl TenantTable {
    /// The label of the refused filter, as the form shows it.
    pub fn error_label(&self) -> &'static str {
        match self.error_field {
            "state" => "State",
            "q" => "External id contains",
            "sort" => "Sort",
            "page" => "Page",
            _ => "Filter",
        }
    }

    /// The table of run `run_id` for what was asked; a bad filter is shown
    /// beside its field (422), with the whole run's box score. It reads the
    /// run's tenants only, so a page reads it beside the run; [`Self::of`]
    /// then says whether the run is still going.
    pub async fn load(cx: &Ctx, run_id: i64, ask: TenantsQuery) -> Result<TenantTable, WebError> {
        let (service, actor) = (cx.state.app.runs(), cx.actor());
        let (mut query, error_field, error) = match ask.parse(None) {
            Ok(q) => (q, "", String::new()),
            Err(e) if e.is_caller_error() => {
                let (f, m) = field_error(&e.to_string(), &["state", "q", "sort", "page"]);
                (TenantQuery::default(), f, m)
            }
            Err(e) => return Err(e.into()),
        };
        let first = service.run_tenants(&actor, run_id, &query).await?;
        let pages = ((first.matching + query.per_page - 1) / query.per_page).max(1);
        // A page past the last is the last.
        let page: TenantPage = if query.page > pages {
            query.page = pages;
            service.run_tenants(&actor, run_id, &query).await?
        } else {
            first
        };
        let b = &page.box_score;
        let score = STATE_LABELS
            .iter()
            .map(|(s, label, class)| ScorePart {
                value: s.as_str(),
                label,
                class,
                count: count(b.get(*s)),
                zero: b.get(*s) == 0,
            })
            .collect();
        let base = format!("/system/runs/{run_id}");
        let filtered = ask.state.get().is_some() || ask.q.get().is_some();
        Ok(TenantTable {
            run_id,
            active: false,
            score,
            total: plural(b.total, "tenant"),
            rows: page.rows,
            summary: match filtered {
                true => format!(
                    "{} of {} match",
                    count(page.matching),
                    plural(b.total, "tenant")
                ),
                false => plural(b.total, "tenant"),
            },
            pager: Pager::counted(&base, &ask, "page", query.page, pages),
            poll_url: Pager::url(&format!("{base}/tenants"), &ask, "page", query.page),
            csv_url: Pager::url(&format!("{base}/tenants.csv"), &ask, "page", 1),
            ask,
            error_field,
            error,
            standalone: false,
        })
    }

    /// The table of `run`, polled while the run is active.
    pub fn of(mut self, run: &Run) -> TenantTable {
        self.active = run.is_active();
        self
    }
}

/// The polled part of View run's tenants alone.
pub async fn tenants_fragment(
    cx: Ctx,
    RunId(id): RunId,
    Query(ask): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    let (run, table) = tokio::try_join!(
        async { Ok(cx.state.app.runs().run(&cx.actor(), id).await?) },
        TenantTable::load(&cx, id, ask),
    )?;
    let mut table = table.of(&run);
    table.standalone = true;
    let status = match table.error.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    page_with(status, &Fragment { table })
}

// On the console (`GET /system/runs/{id}/tenants.csv`): every tenant
// matching the filter, as CSV.
/// `GET /system/api/runs/{id}/tenants`: one page of the run's tenants and
/// its box score.
#[utoipa::path(
    get,
    path = "/system/api/runs/{id}/tenants",
    operation_id = "tenants_json",
    tag = "runs",
    params(RunPath, TenantsQuery),
    responses((status = 200, description = "A page of the run's tenants and its box score", body = TenantPage), ReadErrors)
)]
pub async fn tenants(
    cx: Ctx,
    RunId(id): RunId,
    Query(q): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    let query = q.parse(q.per_page.get())?;
    let (service, actor) = (cx.state.app.runs(), cx.actor());
    if cx.format == Format::Json {
        let page = service.run_tenants(&actor, id, &query).await?;
        return Ok(Json(page).into_response());
    }
    let rows = service.run_tenants_all(&actor, id, &query).await?;
    let disposition = format!("attachment; filename=\"run-{id}-tenants.csv\"");
    let kind = "text/csv; charset=utf-8".to_owned();
    let headers = [
        (header::CONTENT_TYPE, kind),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, csv_export::tenants_csv(&rows)?).into_response())
}
