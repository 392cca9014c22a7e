//! View run's tenants: the box score (tenants per state, adding up to the
//! total) and the per-tenant table — filtered by state, searched by external
//! id, sorted, paged, and polled by htmx while the run goes. The filter form
//! sits outside the polled part, so typing is never swapped away.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::kit::format::{count, duration, plural};
use super::super::kit::views::TimeTag;
use super::super::kit::{Operator, Query, WebError, WebState, opt, page_with, run_id};
use super::PageLinks;
use super::views::field_error;
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

fn label_of(state: TenantState) -> (&'static str, &'static str) {
    STATE_LABELS
        .iter()
        .find(|(s, _, _)| *s == state)
        .map(|(_, l, c)| (*l, *c))
        .unwrap_or(("", ""))
}

/// The table's filters, as typed (the page's and the fragment's query).
#[derive(Deserialize, Default, Clone)]
pub struct TenantsAsk {
    pub state: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
}

impl TenantsAsk {
    fn parse(&self) -> Result<TenantQuery> {
        TenantQuery::parse(
            opt(&self.state),
            opt(&self.q),
            opt(&self.sort),
            opt(&self.page),
            None,
        )
    }

    fn pairs(&self, with_page: bool) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&'static str, String)> =
            [("state", &self.state), ("q", &self.q), ("sort", &self.sort)]
                .into_iter()
                .filter_map(|(k, v)| opt(v).map(|v| (k, v.to_owned())))
                .collect();
        if with_page && let Some(p) = opt(&self.page) {
            pairs.push(("page", p.to_owned()));
        }
        pairs
    }
}

#[derive(Debug, Clone)]
pub struct TenantLine {
    pub external_id: String,
    pub label: &'static str,
    pub class: &'static str,
    pub expected: String,
    pub updated: String,
    pub skipped: String,
    pub failed: String,
    pub attempts: String,
    pub started_at: TimeTag,
    pub duration: String,
    pub reason_code: String,
    pub message: String,
}

impl TenantLine {
    fn of(r: &TenantRow) -> TenantLine {
        let (label, class) = label_of(r.state);
        TenantLine {
            external_id: r.external_id.clone(),
            label,
            class,
            expected: r.items_expected.map(count).unwrap_or_else(|| "—".into()),
            updated: count(r.items_updated),
            skipped: count(r.items_skipped),
            failed: count(r.items_failed),
            attempts: count(r.attempts),
            started_at: TimeTag::opt(&r.started_at),
            duration: r.duration_ms.map(duration).unwrap_or_default(),
            reason_code: r.reason_code.clone().unwrap_or_default(),
            message: r.message.clone().unwrap_or_default(),
        }
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
    pub rows: Vec<TenantLine>,
    pub summary: String,
    pub links: PageLinks,
    /// The fragment's own URL with the same filters (what it polls).
    pub poll_url: String,
    pub csv_url: String,
    pub state: String,
    pub q: String,
    pub sort: String,
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

fn url(path: &str, pairs: &[(&'static str, String)]) -> String {
    match serde_urlencoded::to_string(pairs) {
        Ok(s) if !s.is_empty() => format!("{path}?{s}"),
        _ => path.to_owned(),
    }
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

    /// 422 when a filter was refused (the table shows why beside it).
    pub fn status(&self) -> StatusCode {
        if self.error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// The table of run `run_id` for what was asked; a bad filter is shown
    /// beside its field, with the whole run's box score. It reads the run's
    /// tenants only, so a page reads it beside the run; [`Self::of`] then
    /// says whether the run is still going.
    pub async fn load(
        state: &WebState,
        op: &Operator,
        run_id: i64,
        ask: &TenantsAsk,
    ) -> Result<TenantTable, WebError> {
        let service = state.app.runbooks();
        let actor = op.actor();
        let (query, error_field, error) = match ask.parse() {
            Ok(q) => (q, "", String::new()),
            Err(e) if e.is_caller_error() => {
                let (f, m) = field_error(&e.to_string(), &["state", "q", "sort", "page"]);
                (TenantQuery::default(), f, m)
            }
            Err(e) => return Err(e.into()),
        };
        let mut query = query;
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
        let filters = ask.pairs(false);
        let mut polled = filters.clone();
        if query.page > 1 {
            polled.push(("page", query.page.to_string()));
        }
        Ok(TenantTable {
            run_id,
            active: false,
            score,
            total: plural(b.total, "tenant"),
            rows: page.rows.iter().map(TenantLine::of).collect(),
            summary: if filters.iter().any(|(k, _)| *k != "sort") {
                format!(
                    "{} of {} match",
                    count(page.matching),
                    plural(b.total, "tenant")
                )
            } else {
                plural(b.total, "tenant")
            },
            links: PageLinks::new(&base, &filters, "page", query.page, pages),
            poll_url: url(&format!("{base}/tenants"), &polled),
            csv_url: url(&format!("{base}/tenants.csv"), &filters),
            state: opt(&ask.state).unwrap_or("").to_owned(),
            q: opt(&ask.q).unwrap_or("").to_owned(),
            sort: opt(&ask.sort).unwrap_or("").to_owned(),
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
pub async fn run_tenants_fragment(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    Query(ask): Query<TenantsAsk>,
) -> Result<Response, WebError> {
    let run_id = run_id(&id)?;
    let (run, table) = tokio::try_join!(
        async { Ok(state.app.runbooks().run(&op.actor(), run_id).await?) },
        TenantTable::load(&state, &op, run_id, &ask),
    )?;
    let mut table = table.of(&run);
    table.standalone = true;
    page_with(table.status(), &Fragment { table })
}
