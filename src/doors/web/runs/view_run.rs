//! View run: one status line, the duration, expected against done with the
//! rate and time remaining while it goes, the box score and per-tenant
//! table, the operator's controls beside the progress (pause, resume,
//! cancel, retry, limits), failures by reason code, and the links between a run and its retries.

use askama::Template;
use axum::response::Response;

use crate::accounts::sessions::session_token;
use axum::http::StatusCode;

use super::super::kit::{
    Chrome, Ctx, Flash, Query, RunId, WebError, labelled_error, page, page_with,
};
use super::present::RunView;
use super::tenants::{SORTS, STATE_LABELS, TenantTable, TenantsQuery, filters};
use crate::console::FailureGroup;
use crate::domain::Capability;

/// View run: the live part and what does not change.
#[derive(Template)]
#[template(path = "system/run.html")]
struct RunPage {
    chrome: Chrome,
    run: RunView,
    groups: Vec<FailureGroup>,
    can_act: bool,
    table: TenantTable,
    states: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, &'static str)>,
    /// The form token of the controls' forms.
    csrf: String,
    /// False: the failures are drawn in place (a poll swaps them out of band).
    live: bool,
    /// What a control just did (pause, resume, limits, retry), once.
    flash: Option<Flash>,
    limits_form: LimitsForm,
}

/// The limits form of View run: the run's limits, or what was typed with
/// the error beside its field.
#[derive(Debug, Clone, Default)]
pub struct LimitsForm {
    pub max_concurrency: String,
    pub max_errors: String,
    pub min_finished: String,
    /// `max_concurrency`, `max_errors` or `min_finished`; empty without error.
    pub error_field: &'static str,
    pub error: String,
}

/// The fields' labels, as the form and its messages name them.
const LIMIT_LABELS: [(&str, &str); 3] = [
    ("max_concurrency", "Max concurrency"),
    ("max_errors", "Max errors"),
    ("min_finished", "Min finished"),
];
const LIMIT_HINTS: [&str; 3] = [
    "tenants at once, or a percentage; blank: none",
    "failed tenants allowed, or a percentage; blank: none",
    "tenants finished before a percentage applies",
];

/// One field of the limits form as drawn.
pub struct LimitField<'a> {
    pub name: &'static str,
    pub id: String,
    pub label: &'static str,
    pub hint: &'static str,
    pub value: &'a str,
    /// The error beside this field (empty: none).
    pub error: &'a str,
}

impl LimitsForm {
    pub fn fields(&self) -> Vec<LimitField<'_>> {
        let values = [&self.max_concurrency, &self.max_errors, &self.min_finished];
        LIMIT_LABELS
            .iter()
            .zip(LIMIT_HINTS)
            .zip(values)
            .map(|(((name, label), hint), value)| LimitField {
                name,
                id: name.replace('_', "-"),
                label,
                hint,
                value,
                error: match self.error_field == *name {
                    true => &self.error,
                    false => "",
                },
            })
            .collect()
    }

    pub fn of(run: &RunView) -> LimitsForm {
        let l = &run.limits;
        LimitsForm {
            max_concurrency: l.max_concurrency.clone().unwrap_or_default(),
            max_errors: l.max_errors.clone().unwrap_or_default(),
            min_finished: l.min_finished.map(|m| m.to_string()).unwrap_or_default(),
            ..LimitsForm::default()
        }
    }

    /// What was typed, with the service's refusal beside its field in the
    /// field's label ("Max concurrency must be …").
    pub fn refused(typed: [Option<String>; 3], message: &str) -> LimitsForm {
        let (field, error) = labelled_error(message, &LIMIT_LABELS);
        let [c, e, m] = typed.map(Option::unwrap_or_default);
        LimitsForm {
            max_concurrency: c,
            max_errors: e,
            min_finished: m,
            error_field: field,
            error,
        }
    }
}

#[derive(Template)]
#[template(path = "system/run_live.html")]
struct RunLive {
    run: RunView,
    groups: Vec<FailureGroup>,
    can_act: bool,
    csrf: String,
    live: bool,
    limits_form: LimitsForm,
}

/// The run and its failures grouped by reason, read side by side (the
/// groups are kept only for a run with failures).
async fn run_and_groups(cx: &Ctx, run_id: i64) -> Result<(RunView, Vec<FailureGroup>), WebError> {
    let (runs, console, actor) = (cx.state.app.runs(), cx.state.app.run_lists(), cx.actor());
    let (run, groups) = tokio::try_join!(
        runs.run(&actor, run_id),
        console.failure_groups(&cx.op.identity, run_id),
    )?;
    let failed = run.summary_counts.failed > 0 || !run.failures.is_empty();
    let groups = if failed { groups } else { vec![] };
    Ok((RunView::of(&cx.state, run), groups))
}

pub async fn view_run(
    cx: Ctx,
    RunId(id): RunId,
    Query(ask): Query<TenantsQuery>,
) -> Result<Response, WebError> {
    render(&cx, id, ask, None).await
}

/// View run, with the limits form as refused when `limits` is given (422).
pub async fn render(
    cx: &Ctx,
    id: i64,
    ask: TenantsQuery,
    limits: Option<LimitsForm>,
) -> Result<Response, WebError> {
    // Independent reads, side by side: under load the page waits for the
    // slowest, not for their sum.
    let ((run, groups), table, chrome) = tokio::try_join!(
        run_and_groups(cx, id),
        TenantTable::load(cx, id, ask),
        cx.chrome("runs"),
    )?;
    let can_act = cx.op.can(Capability::RUNBOOKS_RUN);
    let status = match limits {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let limits_form = limits.unwrap_or_else(|| LimitsForm::of(&run));
    page_with(
        status,
        &RunPage {
            limits_form,
            csrf: chrome.csrf.clone(),
            live: false,
            chrome,
            table: table.of(&run),
            run,
            groups,
            can_act,
            states: STATE_LABELS
                .iter()
                .map(|(s, l, _)| (s.as_str(), *l))
                .collect(),
            sorts: SORTS.to_vec(),
            flash: Flash::take(&cx.session).await,
        },
    )
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn live(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    let ((run, groups), csrf) = tokio::try_join!(run_and_groups(&cx, id), async {
        Ok::<_, WebError>(session_token(&cx.session).await?)
    })?;
    let can_act = cx.op.can(Capability::RUNBOOKS_RUN);
    page(&RunLive {
        limits_form: LimitsForm::of(&run),
        run,
        groups,
        can_act,
        csrf,
        live: true,
    })
}
