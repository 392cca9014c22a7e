//! What an operator does to a going run — pause, resume, new limits,
//! cancel. Each is one handler for both formats: the console's form goes
//! back to View run (with a message, once), the API answers the run.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::super::kit::{Ctx, Format, Input, RunId, TokenOnly, WebError};
use super::super::openapi::errors::WriteErrors;
use super::super::openapi::inputs;
use super::path::{RunPath, run_page};
use super::tenants::TenantsQuery;
use super::view_run::{LimitsForm, render};
use crate::error::Error;
use crate::runs::{Ensured, Run};

impl Ctx {
    /// A control's answer about `run`: the run on the API, View run with
    /// `message` on a page.
    pub async fn run_done(&self, run: &Run, message: Option<String>) -> Result<Response, WebError> {
        self.done((StatusCode::OK, run), &run_page(run.id), message)
            .await
    }

    /// A start's or retry's answer: 201 with a new run, or 200 with the
    /// active run the service answered.
    pub async fn ensured(
        &self,
        e: &Ensured,
        message: Option<String>,
    ) -> Result<Response, WebError> {
        let status = match e.created {
            true => StatusCode::CREATED,
            false => StatusCode::OK,
        };
        self.done((status, &e.run), &run_page(e.run.id), message)
            .await
    }
}

/// Pauses a running run: no new tenant starts, tenants in flight finish.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/pause",
    tag = "runs",
    params(RunPath),
    request_body(content = inline(NoFields), content_type = "application/json"),
    responses((status = 200, description = "The paused run", body = Run), WriteErrors)
)]
pub async fn pause(cx: Ctx, RunId(id): RunId, _: Input<TokenOnly>) -> Result<Response, WebError> {
    let run = cx.state.app.runs().pause(&cx.actor(), id).await?;
    let message = format!("Run {} paused; tenants in flight finish.", run.id);
    cx.run_done(&run, Some(message)).await
}

/// Resumes a paused run.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/resume",
    tag = "runs",
    params(RunPath),
    request_body(content = inline(NoFields), content_type = "application/json"),
    responses((status = 200, description = "The resumed run", body = Run), WriteErrors)
)]
pub async fn resume(cx: Ctx, RunId(id): RunId, _: Input<TokenOnly>) -> Result<Response, WebError> {
    let run = cx.state.app.runs().resume(&cx.actor(), id).await?;
    cx.run_done(&run, Some(format!("Run {} resumed.", run.id)))
        .await
}

/// The body of pause, resume and cancel on the API: `{}` and nothing
/// else (any field is refused, 422), as a form takes nothing but its token.
pub struct NoFields;

inputs::schema_of!(NoFields = inputs::empty_body);

/// A run's new cap and error budget: a count (`10`) or a percentage (`5%`);
/// blank for none (its schema: [`inputs::limits_body`]).
#[derive(Deserialize, Default)]
pub struct LimitsBody {
    max_concurrency: Option<String>,
    max_errors: Option<String>,
    min_finished: Option<String>,
}

inputs::schema_of!(LimitsBody = inputs::limits_body);

/// Sets a running or paused run's concurrency cap and error budget.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/limits",
    tag = "runs",
    params(RunPath),
    request_body(content = LimitsBody, content_type = "application/json"),
    responses((status = 200, description = "The run with its new limits", body = Run), WriteErrors)
)]
pub async fn limits(
    cx: Ctx,
    RunId(id): RunId,
    Input(b): Input<LimitsBody>,
) -> Result<Response, WebError> {
    let (cap, errors) = (b.max_concurrency.as_deref(), b.max_errors.as_deref());
    let (service, actor) = (cx.state.app.runs(), cx.actor());
    let min = b.min_finished.as_deref();
    let run = match service.set_limits(&actor, id, cap, errors, min).await {
        Ok(run) => run,
        // On the page: View run again, what was typed kept, the error
        // beside its field.
        Err(Error::BadInput(message)) if cx.format == Format::Html => {
            let typed = [b.max_concurrency, b.max_errors, b.min_finished];
            let form = LimitsForm::refused(typed, &message);
            return render(&cx, id, TenantsQuery::default(), Some(form)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let l = &run.limits;
    let message = format!(
        "Limits of run {} set: max concurrency {}, max errors {}.",
        run.id,
        l.max_concurrency.as_deref().unwrap_or("none"),
        l.max_errors.as_deref().unwrap_or("none")
    );
    cx.run_done(&run, Some(message)).await
}

/// Cancels an active run. Takes a JSON body (`{}`), like every state change
/// of the API.
#[utoipa::path(
    post,
    path = "/system/api/runs/{id}/cancel",
    tag = "runs",
    params(RunPath),
    request_body(content = inline(NoFields), content_type = "application/json"),
    responses((status = 200, description = "The cancelled run", body = Run), WriteErrors)
)]
pub async fn cancel(cx: Ctx, RunId(id): RunId, _: Input<TokenOnly>) -> Result<Response, WebError> {
    let run = cx.state.app.runs().cancel(&cx.actor(), id).await?;
    cx.run_done(&run, None).await
}
