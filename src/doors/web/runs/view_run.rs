//! View run: one status line, the duration, expected against done with the
//! rate and time remaining while it goes, the box score and per-tenant
//! table, the operator's controls beside the progress (pause, resume,
//! cancel, retry, limits), failures by reason code, and the links between a run and its retries.

use askama::Template;
use axum::response::Response;

use super::super::kit::session::csrf_token;
use super::super::kit::{Chrome, Ctx, Flash, Query, RunId, WebError, page};
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
}

#[derive(Template)]
#[template(path = "system/run_live.html")]
struct RunLive {
    run: RunView,
    groups: Vec<FailureGroup>,
    can_act: bool,
    csrf: String,
    live: bool,
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
    // Independent reads, side by side: under load the page waits for the
    // slowest, not for their sum.
    let ((run, groups), table, chrome) = tokio::try_join!(
        run_and_groups(&cx, id),
        TenantTable::load(&cx, id, ask),
        cx.chrome("runs"),
    )?;
    let can_act = cx.op.can(Capability::RUNBOOKS_RUN);
    page(&RunPage {
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
    })
}

/// The live part of View run, polled by htmx while the run is active.
pub async fn live(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    let ((run, groups), csrf) = tokio::try_join!(run_and_groups(&cx, id), csrf_token(&cx.session))?;
    let can_act = cx.op.can(Capability::RUNBOOKS_RUN);
    page(&RunLive {
        run,
        groups,
        can_act,
        csrf,
        live: true,
    })
}
