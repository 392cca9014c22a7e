//! The confirmations of cancel and retry-failed, which work without
//! JavaScript: the cancel page's counts stay live while the run goes, and
//! the retry page lists what it will retry, grouped by reason code, warning
//! when every failure is the same data error.

use askama::Template;
use axum::response::Response;

use super::super::kit::format::plural;
use super::super::kit::{Confirm, Ctx, RunId, WebError, page};
use super::path::run_page;
use super::present::RunView;
use crate::console::FailureGroup;

/// The counts a confirmation shows, polled while the run is active.
#[derive(Template)]
#[template(path = "system/_confirm_counts.html")]
struct Counts {
    run: RunView,
}

/// What a run's confirmation shows above its form.
#[derive(Template)]
#[template(path = "system/_run_confirm.html")]
struct RunDetails {
    run: RunView,
    groups: Vec<FailureGroup>,
    /// Set when every failure shares one data-error code.
    same_data_error: String,
    /// A retry: the limits the new run keeps are shown.
    retry: bool,
}

/// The confirmation of `action` (`cancel`, `retry-failed`) of run `id`.
async fn confirm(cx: &Ctx, id: i64, action: &'static str) -> Result<Response, WebError> {
    let run = cx.state.app.runs().run(&cx.actor(), id).await?;
    let failed = plural(run.summary_counts.failed, "tenant");
    let retry = action != "cancel";
    let groups = match retry {
        true => {
            cx.state
                .app
                .run_lists()
                .failure_groups(&cx.op.identity, id)
                .await?
        }
        false => vec![],
    };
    let same_data_error = match groups.as_slice() {
        [only] if only.data_error => only.reason_code.clone(),
        _ => String::new(),
    };
    let (heading, explanation, button) = match retry {
        false => (
            "Cancel this run?",
            "Tenants not yet processed are dropped; those already processed keep their changes. The run ends as cancelled.".to_owned(),
            "Cancel run".to_owned(),
        ),
        true => (
            "Retry the failed tenants?",
            format!("A new run starts over just the {failed} that failed in this run."),
            format!("Retry {failed}"),
        ),
    };
    let run = RunView::of(&cx.state, run);
    let details = RunDetails {
        run,
        groups,
        same_data_error,
        retry,
    };
    page(&Confirm {
        chrome: cx.chrome("runs").await?,
        crumbs: vec![
            ("/system/runs".into(), "Runs".into()),
            (run_page(id), format!("#{id}")),
        ],
        heading: heading.into(),
        subject: String::new(),
        explanation,
        details: details.render().map_err(|_| WebError::internal())?,
        action: format!("{}/{action}", run_page(id)),
        button,
        danger: !retry,
        with_reason: retry,
        keep: "Keep as is",
    })
}

pub async fn cancel_confirm(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    confirm(&cx, id, "cancel").await
}

pub async fn retry_failed_confirm(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    confirm(&cx, id, "retry-failed").await
}

/// A confirmation's counts alone (polled while the run is active).
pub async fn counts(cx: Ctx, RunId(id): RunId) -> Result<Response, WebError> {
    let run = cx.state.app.runs().run(&cx.actor(), id).await?;
    page(&Counts {
        run: RunView::of(&cx.state, run),
    })
}
