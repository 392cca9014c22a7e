//! `/system`: the dashboard (active runs with their progress, failures of
//! the last 24 hours, work pending per runbook, recent runs over all tenants
//! and of one tenant apart, unread notifications) and the bell. Each panel
//! is also a small fragment that htmx polls, so the page stays current
//! without a reload; the bell likewise.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::format::{count, counted, plural};
use super::kit::{
    Chrome, Operator, Pager, Query, SignedForm, TimeTag, TokenOnly, WebError, WebState, page,
    page_number, path_id,
};
use super::runs::lines;
use super::runs::views::RunLine;
use crate::console::{NotificationItem, Page};
use crate::domain::Capability;

const PAGE_SIZE: i64 = 25;
/// Active runs the dashboard shows (queued, running, paused).
const ACTIVE_ROWS: i64 = 10;
/// Recent runs of each kind of scope.
const RECENT_ROWS: i64 = 5;
const FAILURE_ROWS: i64 = 5;
const FAILURE_HOURS: i64 = 24;
const DASHBOARD_NOTIFICATIONS: i64 = 5;

#[derive(Debug, Clone)]
struct NotificationView {
    id: i64,
    title: String,
    summary: String,
    url: String,
    unread: bool,
    created_at: TimeTag,
}

impl NotificationView {
    fn of(n: &NotificationItem) -> NotificationView {
        NotificationView {
            id: n.id,
            title: n.title.clone(),
            summary: n.summary.clone(),
            url: n.url.clone(),
            unread: n.unread,
            created_at: TimeTag::at(&n.created_at),
        }
    }

    fn all(items: &[NotificationItem]) -> Vec<NotificationView> {
        items.iter().map(NotificationView::of).collect()
    }
}

/// Work pending in one runbook over all tenants.
#[derive(Debug, Clone)]
struct PendingLine {
    key: &'static str,
    title: &'static str,
    items: String,
    tenants: String,
    none: bool,
    active_run_id: Option<i64>,
}

/// The active runs panel.
#[derive(Template)]
#[template(path = "system/_dash_active.html")]
struct ActivePanel {
    active: Vec<RunLine>,
}

/// Failures of the last 24 hours.
#[derive(Template)]
#[template(path = "system/_dash_failures.html")]
struct FailuresPanel {
    failures_total: String,
    failures_none: bool,
    failures: Vec<RunLine>,
}

/// Recent runs, over all tenants and of one tenant apart.
#[derive(Template)]
#[template(path = "system/_dash_recent.html")]
struct RecentPanel {
    recent_all: Vec<RunLine>,
    recent_one: Vec<RunLine>,
    can_runbooks: bool,
}

#[derive(Template)]
#[template(path = "system/_dash_pending.html")]
struct PendingPanel {
    pending: Vec<PendingLine>,
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
    active: Vec<RunLine>,
    failures_total: String,
    failures_none: bool,
    failures: Vec<RunLine>,
    recent_all: Vec<RunLine>,
    recent_one: Vec<RunLine>,
    can_runbooks: bool,
    pending: Vec<PendingLine>,
    notifications: Vec<NotificationView>,
}

#[derive(Template)]
#[template(path = "system/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notifications: Vec<NotificationView>,
    pager: Pager,
}

async fn active_panel(state: &WebState, op: &Operator) -> Result<ActivePanel, WebError> {
    let runs = state
        .app
        .console()
        .active_runs(&op.identity, ACTIVE_ROWS)
        .await?;
    Ok(ActivePanel {
        active: lines(state, &runs),
    })
}

async fn failures_panel(state: &WebState, op: &Operator) -> Result<FailuresPanel, WebError> {
    let recent = state
        .app
        .console()
        .recent_failures(&op.identity, FAILURE_HOURS, FAILURE_ROWS)
        .await?;
    Ok(FailuresPanel {
        failures_total: plural(recent.total, "run"),
        failures_none: recent.total == 0,
        failures: lines(state, &recent.runs),
    })
}

async fn recent_panel(state: &WebState, op: &Operator) -> Result<RecentPanel, WebError> {
    let console = state.app.console();
    let all = console
        .recent_runs(&op.identity, false, RECENT_ROWS)
        .await?;
    let one = console.recent_runs(&op.identity, true, RECENT_ROWS).await?;
    Ok(RecentPanel {
        recent_all: lines(state, &all),
        recent_one: lines(state, &one),
        can_runbooks: op.can(Capability::RUNBOOKS_VIEW),
    })
}

async fn pending_panel(state: &WebState, op: &Operator) -> Result<PendingPanel, WebError> {
    let work = state.app.runbooks().pending_work(&op.actor()).await?;
    Ok(PendingPanel {
        pending: work
            .iter()
            .map(|w| PendingLine {
                key: w.key,
                title: w.title,
                items: counted(
                    w.items_pending,
                    w.item_noun.trim_end_matches('s'),
                    w.item_noun,
                ),
                tenants: format!(
                    "in {} of {}",
                    count(w.tenants_with_work),
                    plural(w.tenants, "tenant")
                ),
                none: w.items_pending == 0,
                active_run_id: w.active_run_id,
            })
            .collect(),
    })
}

pub async fn dashboard(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = Chrome::operator(&state, &op, &session, "dashboard").await?;
    let (active, failures, recent) = if op.can(Capability::OPERATIONS_VIEW) {
        (
            active_panel(&state, &op).await?,
            failures_panel(&state, &op).await?,
            recent_panel(&state, &op).await?,
        )
    } else {
        let none = FailuresPanel {
            failures_total: String::new(),
            failures_none: true,
            failures: vec![],
        };
        let recent = RecentPanel {
            recent_all: vec![],
            recent_one: vec![],
            can_runbooks: false,
        };
        (ActivePanel { active: vec![] }, none, recent)
    };
    let pending = if op.can(Capability::RUNBOOKS_VIEW) {
        pending_panel(&state, &op).await?.pending
    } else {
        vec![]
    };
    let unread = state
        .app
        .console()
        .notifications(&op.identity, true, Page::new(1, DASHBOARD_NOTIFICATIONS))
        .await?;
    page(&Dashboard {
        chrome,
        active: active.active,
        failures_total: failures.failures_total,
        failures_none: failures.failures_none,
        failures: failures.failures,
        recent_all: recent.recent_all,
        recent_one: recent.recent_one,
        can_runbooks: recent.can_runbooks,
        pending,
        notifications: NotificationView::all(&unread.items),
    })
}

/// The active runs panel alone (polled).
pub async fn active_fragment(
    State(state): State<WebState>,
    op: Operator,
) -> Result<Response, WebError> {
    page(&active_panel(&state, &op).await?)
}

/// The failures panel alone (polled).
pub async fn failures_fragment(
    State(state): State<WebState>,
    op: Operator,
) -> Result<Response, WebError> {
    page(&failures_panel(&state, &op).await?)
}

/// The recent runs panel alone (polled).
pub async fn recent_fragment(
    State(state): State<WebState>,
    op: Operator,
) -> Result<Response, WebError> {
    page(&recent_panel(&state, &op).await?)
}

/// The pending work panel alone (polled, less often: it counts items).
pub async fn pending_fragment(
    State(state): State<WebState>,
    op: Operator,
) -> Result<Response, WebError> {
    page(&pending_panel(&state, &op).await?)
}

/// The bell alone (polled from every page).
pub async fn bell(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = Chrome::operator(&state, &op, &session, "notifications").await?;
    page(&Bell { chrome })
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

pub async fn notifications(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::operator(&state, &op, &session, "notifications").await?;
    let list = state
        .app
        .console()
        .notifications(
            &op.identity,
            false,
            Page::new(page_number(&q.page), PAGE_SIZE),
        )
        .await?;
    page(&NotificationsPage {
        chrome,
        notifications: NotificationView::all(&list.items),
        pager: Pager::new("/system/notifications", &[], list.page, list.has_more),
    })
}

pub async fn mark_read(
    State(state): State<WebState>,
    op: Operator,
    Path(id): Path<String>,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    let id = path_id(&id, "notification")?;
    state.app.console().mark_read(&op.identity, id).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}

pub async fn mark_all_read(
    State(state): State<WebState>,
    op: Operator,
    SignedForm(_): SignedForm<TokenOnly>,
) -> Result<Response, WebError> {
    state.app.console().mark_all_read(&op.identity).await?;
    Ok(Redirect::to("/system/notifications").into_response())
}
