//! The confirmations of cancel and retry-failed, which work without
//! JavaScript: the cancel page's counts stay live while the run goes, and
//! the retry page lists what it will retry, grouped by reason code, warning
//! when every failure is the same data error.

use askama::Template;
use axum::response::Response;

use super::super::kit::format::{count, plural};
use super::super::kit::{Confirm, Ctx, RunId, RunView, WebError, page};
use super::controls::run_page;
use super::present;
use crate::console::FailureGroup;
use crate::runs::Run;

/// The counts a confirmation shows, polled while the run is active.
#[derive(Template)]
#[template(path = "system/_confirm_counts.html")]
struct Counts {
    live: LiveCounts,
}

#[derive(Debug, Clone)]
struct LiveCounts {
    id: i64,
    active: bool,
    counts: String,
}

impl LiveCounts {
    fn of(run: &Run) -> LiveCounts {
        let c = &run.summary_counts;
        let mut text = format!(
            "{}: {} of {} processed",
            present::state_label(run),
            count(c.processed),
            plural(c.total, "tenant")
        );
        if c.failed > 0 {
            text += &format!(", {} failed", count(c.failed));
        }
        if run.is_active() {
            text += &format!(
                "; {} not yet processed",
                plural((c.total - c.processed).max(0), "tenant")
            );
        }
        LiveCounts {
            id: run.id,
            active: run.is_active(),
            counts: text,
        }
    }
}

/// What a run's confirmation shows above its form.
#[derive(Template)]
#[template(path = "system/_run_confirm.html")]
struct RunDetails {
    run: RunView,
    title: String,
    live: LiveCounts,
    groups: Vec<FailureGroup>,
    /// Set when every failure shares one data-error code.
    same_data_error: String,
}

/// The confirmation of `action` (`cancel`, `retry-failed`) of run `id`.
async fn confirm(cx: &Ctx, id: i64, action: &'static str) -> Result<Response, WebError> {
    let run = cx.state.app.runs().run(&cx.actor(), id).await?;
    let mut details = RunDetails {
        title: cx.title_of(&run.run_type),
        live: LiveCounts::of(&run),
        run: RunView::of(&run),
        groups: vec![],
        same_data_error: String::new(),
    };
    let failed = plural(run.summary_counts.failed, "tenant");
    let retry = action != "cancel";
    if retry {
        let console = cx.state.app.run_lists();
        details.groups = console.failure_groups(&cx.op.identity, run.id).await?;
        if let [only] = details.groups.as_slice()
            && only.data_error
        {
            details.same_data_error = only.reason_code.clone();
        }
    }
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
    page(&Confirm {
        chrome: cx.chrome("runs").await?,
        crumbs: vec![
            ("/system/runs".into(), "Runs".into()),
            (run_page(run.id), format!("#{}", run.id)),
        ],
        heading: heading.into(),
        subject: String::new(),
        explanation,
        details: details.render().map_err(|_| WebError::internal())?,
        action: format!("{}/{action}", run_page(run.id)),
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
        live: LiveCounts::of(&run),
    })
}
