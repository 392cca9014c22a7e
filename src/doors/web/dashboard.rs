//! `/system`: the dashboard (active and recent runs, unread notifications)
//! and the bell's notifications, which an operator marks read.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, Operator, Pager, Query, RunView, SignedForm, TokenOnly, WebError, WebState, page,
    page_number, path_id, time,
};
use crate::console::{NotificationItem, Page};
use crate::domain::Capability;
use crate::runs::RunFilter;

const PAGE_SIZE: i64 = 25;
/// Runs and notifications the dashboard shows of each kind.
const DASHBOARD_ROWS: i64 = 10;
const DASHBOARD_NOTIFICATIONS: i64 = 5;

#[derive(Debug, Clone)]
struct NotificationView {
    id: i64,
    title: String,
    summary: String,
    url: String,
    unread: bool,
    created_at: String,
}

impl NotificationView {
    fn of(n: &NotificationItem) -> NotificationView {
        NotificationView {
            id: n.id,
            title: n.title.clone(),
            summary: n.summary.clone(),
            url: n.url.clone(),
            unread: n.unread,
            created_at: time(&n.created_at),
        }
    }

    fn all(items: &[NotificationItem]) -> Vec<NotificationView> {
        items.iter().map(NotificationView::of).collect()
    }
}

#[derive(Template)]
#[template(path = "system/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    active: Vec<RunView>,
    recent: Vec<RunView>,
    notifications: Vec<NotificationView>,
}

#[derive(Template)]
#[template(path = "system/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notifications: Vec<NotificationView>,
    pager: Pager,
}

pub async fn dashboard(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
) -> Result<Response, WebError> {
    let chrome = Chrome::operator(&state, &op, &session, "dashboard").await?;
    let service = state.app.runbooks();
    let actor = op.actor();
    let (active, recent) = if op.can(Capability::OPERATIONS_VIEW) {
        let active = service.active_runs(&actor, DASHBOARD_ROWS).await?;
        let latest = RunFilter {
            limit: DASHBOARD_ROWS,
            ..RunFilter::default()
        };
        let recent = service.runs(&actor, &latest).await?;
        (RunView::all(&active), RunView::all(&recent))
    } else {
        (vec![], vec![])
    };
    let unread = state
        .app
        .console()
        .notifications(&op.identity, true, Page::new(1, DASHBOARD_NOTIFICATIONS))
        .await?;
    page(&Dashboard {
        chrome,
        active,
        recent,
        notifications: NotificationView::all(&unread.items),
    })
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
