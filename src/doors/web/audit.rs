//! `/system/audit`: the audit log, newest first, searched by actor, action,
//! subject and days; system events hidden unless asked for. A filter typed
//! wrong is said beside its field, with what was typed kept.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tower_sessions::Session;

use super::kit::{
    Chrome, NumberedPager, Operator, Query, TimeTag, WebError, WebState, page_number, page_with,
};
use crate::console::{AUDIT_ACTIONS, AuditEntryView, AuditFilter};
use crate::domain::{Invalid, PageSpot};

const PATH: &str = "/system/audit";
const PAGE_SIZE: i64 = 25;

#[derive(Debug, Clone)]
struct EntryView {
    when: TimeTag,
    actor: String,
    system: bool,
    action: String,
    subject: String,
    subject_url: String,
    details: Vec<(String, String)>,
    ip: String,
}

impl EntryView {
    fn of(a: &AuditEntryView) -> EntryView {
        EntryView {
            when: TimeTag::at(&a.created_at),
            actor: a.actor.clone(),
            system: a.system,
            action: a.action.clone(),
            subject: a.subject.clone(),
            subject_url: a.subject_url.clone().unwrap_or_default(),
            details: a.details.clone(),
            ip: a.ip.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "system/audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<EntryView>,
    filter: AuditFilter,
    actions: Vec<&'static str>,
    /// The field whose value is wrong, and what is wrong with it.
    invalid: Option<Invalid>,
    /// "12 system events hidden" and the link showing them.
    hidden_system: String,
    show_system_url: String,
    pager: NumberedPager,
    pager_label: &'static str,
}

impl AuditPage {
    fn error_of(&self, field: &str) -> String {
        match &self.invalid {
            Some(i) if i.field == field => i.message.clone(),
            _ => String::new(),
        }
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    subject: Option<String>,
    from: Option<String>,
    to: Option<String>,
    system: Option<String>,
    page: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        let v = |s: &Option<String>| s.as_deref().unwrap_or("").trim().to_owned();
        AuditFilter {
            actor: v(&self.actor),
            action: v(&self.action),
            subject: v(&self.subject),
            from: v(&self.from),
            to: v(&self.to),
            include_system: self.system.as_deref().is_some_and(|s| !s.is_empty()),
        }
    }
}

/// The filters as a query string's pairs (the pager keeps them).
fn query_of(f: &AuditFilter) -> Vec<(&'static str, String)> {
    vec![
        ("actor", f.actor.clone()),
        ("action", f.action.clone()),
        ("subject", f.subject.clone()),
        ("from", f.from.clone()),
        ("to", f.to.clone()),
        ("system", if f.include_system { "1" } else { "" }.into()),
    ]
}

/// The log with these filters, from its first page.
fn url_of(f: &AuditFilter) -> String {
    let q: Vec<(&str, String)> = query_of(f)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    match serde_urlencoded::to_string(&q) {
        Ok(s) if !s.is_empty() => format!("{PATH}?{s}"),
        _ => PATH.to_owned(),
    }
}

pub async fn audit_log(
    State(state): State<WebState>,
    op: Operator,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let filter = q.filter();
    let found = state
        .app
        .console()
        .audit_search(&op.identity, &filter, page_number(&q.page), PAGE_SIZE)
        .await?;
    let chrome = Chrome::operator(&state, &op, &session, "audit").await?;
    let (status, events, spot, hidden, invalid) = match found {
        Ok(p) => (
            StatusCode::OK,
            p.entries.items.iter().map(EntryView::of).collect(),
            p.entries.spot,
            p.hidden_system,
            None,
        ),
        Err(i) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Vec::new(),
            PageSpot::clamp(1, PAGE_SIZE, 0),
            0,
            Some(i),
        ),
    };
    let query = query_of(&filter);
    let show_system_url = url_of(&AuditFilter {
        include_system: true,
        ..filter.clone()
    });
    page_with(
        status,
        &AuditPage {
            chrome,
            events,
            actions: AUDIT_ACTIONS.to_vec(),
            invalid,
            hidden_system: match hidden {
                0 => String::new(),
                1 => "1 system event hidden".into(),
                n => format!("{} system events hidden", super::kit::format::count(n)),
            },
            show_system_url,
            pager: NumberedPager::new(PATH, &query, "page", spot, ("entry", "entries")),
            pager_label: "Audit log pages",
            filter,
        },
    )
}
