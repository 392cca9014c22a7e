//! `/system`: the dashboard (active runs with their progress, failures of
//! the last 24 hours, work pending per runbook, recent runs over all tenants
//! and of one tenant apart, unread notifications) and the bell. Each panel
//! is also a small fragment that htmx polls, so the page stays current
//! without a reload; the bell likewise.

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};

use super::kit::views::filters;
use super::kit::{
    Chrome, Ctx, NotificationId, PageQuery, Pager, Query, SignedForm, TokenOnly, WebError, page,
};
use super::runs::present::RunView;
use crate::console::{NotificationItem, Page};
use crate::domain::Capability;
use crate::runbooks::PendingWork;

const PAGE_SIZE: i64 = 25;
const DASHBOARD_NOTIFICATIONS: i64 = 5;

/// The active runs panel.
#[derive(Template, Default)]
#[template(path = "system/_dash_active.html")]
struct ActivePanel {
    active: Vec<RunView>,
}

/// Failures of the last 24 hours.
#[derive(Template, Default)]
#[template(path = "system/_dash_failures.html")]
struct FailuresPanel {
    failures_total: String,
    failures_none: bool,
    failures: Vec<RunView>,
}

/// Recent runs, over all tenants and of one tenant apart.
#[derive(Template, Default)]
#[template(path = "system/_dash_recent.html")]
struct RecentPanel {
    recent_all: Vec<RunView>,
    recent_one: Vec<RunView>,
    can_runbooks: bool,
}

#[derive(Template)]
#[template(path = "system/_dash_pending.html")]
struct PendingPanel {
    pending: Vec<PendingWork>,
}

#[derive(Template)]
#[template(path = "system/_bell.html")]
struct Bell {
    chrome: Chrome,
}

#[derive(Template)]
#[template(path = "system/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    /// The panels, each rendered as it is polled.
    active: ActivePanel,
    failures: FailuresPanel,
    recent: RecentPanel,
    notifications: Vec<NotificationItem>,
}

#[derive(Template)]
#[template(path = "system/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notifications: Vec<NotificationItem>,
    pager: Pager,
}

async fn active_panel(cx: &Ctx) -> Result<ActivePanel, WebError> {
    let console = cx.state.app.run_lists();
    let runs = console.active_runs(&cx.op.identity).await?;
    Ok(ActivePanel {
        active: RunView::all(&cx.state, runs),
    })
}

async fn failures_panel(cx: &Ctx) -> Result<FailuresPanel, WebError> {
    let console = cx.state.app.run_lists();
    let recent = console.recent_failures(&cx.op.identity).await?;
    Ok(FailuresPanel {
        failures_total: recent.total_words(),
        failures_none: recent.total == 0,
        failures: RunView::all(&cx.state, recent.runs),
    })
}

async fn recent_panel(cx: &Ctx) -> Result<RecentPanel, WebError> {
    let console = cx.state.app.run_lists();
    let all = console.recent_runs(&cx.op.identity, false);
    let one = console.recent_runs(&cx.op.identity, true);
    Ok(RecentPanel {
        recent_all: RunView::all(&cx.state, all.await?),
        recent_one: RunView::all(&cx.state, one.await?),
        can_runbooks: cx.op.can(Capability::RUNBOOKS_VIEW),
    })
}

async fn pending_panel(cx: &Ctx) -> Result<PendingPanel, WebError> {
    let pending = cx.state.app.runbooks().pending_work(&cx.actor()).await?;
    Ok(PendingPanel { pending })
}

pub async fn dashboard(cx: Ctx) -> Result<Response, WebError> {
    let chrome = cx.chrome("dashboard").await?;
    let (active, failures, recent) = if cx.op.can(Capability::OPERATIONS_VIEW) {
        (
            active_panel(&cx).await?,
            failures_panel(&cx).await?,
            recent_panel(&cx).await?,
        )
    } else {
        Default::default()
    };
    let first = Page::new(1, DASHBOARD_NOTIFICATIONS);
    let console = cx.state.app.notifications();
    let unread = console.notifications(&cx.op.identity, true, first).await?;
    page(&Dashboard {
        chrome,
        active,
        failures,
        recent,
        notifications: unread.items,
    })
}

/// The active runs panel alone (polled).
pub async fn active(cx: Ctx) -> Result<Response, WebError> {
    page(&active_panel(&cx).await?)
}

/// The failures panel alone (polled).
pub async fn failures(cx: Ctx) -> Result<Response, WebError> {
    page(&failures_panel(&cx).await?)
}

/// The recent runs panel alone (polled).
pub async fn recent(cx: Ctx) -> Result<Response, WebError> {
    page(&recent_panel(&cx).await?)
}

/// The pending work panel alone (polled, less often: it counts items).
pub async fn pending(cx: Ctx) -> Result<Response, WebError> {
    page(&pending_panel(&cx).await?)
}

/// The bell alone (polled from every page).
pub async fn bell(cx: Ctx) -> Result<Response, WebError> {
    page(&Bell {
        chrome: cx.chrome("notifications").await?,
    })
}

pub async fn notifications(cx: Ctx, Query(q): Query<PageQuery>) -> Result<Response, WebError> {
    let chrome = cx.chrome("notifications").await?;
    let asked = Page::new(q.page.page()?, PAGE_SIZE);
    let console = cx.state.app.notifications();
    let list = console.notifications(&cx.op.identity, false, asked).await?;
    page(&NotificationsPage {
        chrome,
        notifications: list.items,
        pager: Pager::ahead("/system/notifications", &(), list.page, list.has_more),
    })
}

pub async fn mark_read(
    cx: Ctx,
    NotificationId(id): NotificationId,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let console = cx.state.app.notifications();
    console.mark_read(&cx.op.identity, id).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}

pub async fn mark_all_read(
    cx: Ctx,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let console = cx.state.app.notifications();
    console.mark_all_read(&cx.op.identity).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}
