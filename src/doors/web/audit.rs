//! `/system/audit`: the audit log, newest first, filtered by action prefix.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, Operator, Pager, Query, WebError, WebState, opt, page, page_number, time,
};
use crate::console::{AuditItem, Page};

const PAGE_SIZE: i64 = 25;

#[derive(Debug, Clone)]
struct AuditView {
    when: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
    ip: String,
}

impl AuditView {
    fn of(a: &AuditItem) -> AuditView {
        AuditView {
            when: time(&a.created_at),
            actor: a.actor.clone(),
            action: a.action.clone(),
            subject: a.subject.clone(),
            detail: a.detail.clone(),
            ip: a.ip.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "system/audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<AuditView>,
    action: String,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    page: Option<String>,
}

pub async fn audit_log(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let events = state
        .app
        .console()
        .audit_log(
            &op.identity,
            opt(&q.action),
            Page::new(page_number(&q.page), PAGE_SIZE),
        )
        .await?;
    let action = opt(&q.action).unwrap_or("").to_owned();
    page(&AuditPage {
        chrome: Chrome::operator(&state, &op, &session, "audit").await?,
        events: events.items.iter().map(AuditView::of).collect(),
        pager: Pager::new(
            "/system/audit",
            &[("action", action.clone())],
            events.page,
            events.has_more,
        ),
        action,
    })
}
