//! `/system/audit`: the audit log, newest first, searched by actor, action,
//! subject and days; system events hidden unless asked for. A filter typed
//! wrong is said beside its field, with what was typed kept.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::kit::views::filters;
use super::kit::{Chrome, Ctx, Pager, Query, Text, WebError, page_with};
use crate::console::{AUDIT_ACTIONS, AuditEntryView, AuditFilter, AuditPage};
use crate::domain::Invalid;

const PATH: &str = "/system/audit";
const PAGE_SIZE: i64 = 25;

#[derive(Template)]
#[template(path = "system/audit.html")]
struct AuditLogPage {
    chrome: Chrome,
    events: Vec<AuditEntryView>,
    filter: AuditFilter,
    actions: Vec<&'static str>,
    /// The field whose value is wrong, and what is wrong with it.
    invalid: Option<Invalid>,
    /// "12 system events hidden" and the link showing them.
    hidden_system: String,
    show_system_url: String,
    pager: Pager,
}

impl AuditLogPage {
    fn error_of(&self, field: &str) -> String {
        match &self.invalid {
            Some(i) if i.field == field => i.message.clone(),
            _ => String::new(),
        }
    }
}

/// The log's filters as typed (and kept by the pager's links).
#[derive(Deserialize, Serialize, Clone)]
pub struct AuditQuery {
    actor: Text,
    action: Text,
    subject: Text,
    from: Text,
    to: Text,
    system: Text,
    #[serde(skip_serializing)]
    page: Text,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.to_string(),
            action: self.action.to_string(),
            subject: self.subject.to_string(),
            from: self.from.to_string(),
            to: self.to.to_string(),
            include_system: self.system.get().is_some(),
        }
    }
}

pub async fn audit_log(cx: Ctx, Query(mut q): Query<AuditQuery>) -> Result<Response, WebError> {
    if q.system.get().is_some() {
        q.system = Text::from("1");
    }
    let filter = q.filter();
    let console = cx.state.app.audit_log();
    let found = console.audit_search(&cx.op.identity, &filter, q.page.page()?, PAGE_SIZE);
    let found = found.await?;
    let chrome = cx.chrome("audit").await?;
    let (status, found, invalid) = match found {
        Ok(p) => (StatusCode::OK, p, None),
        Err(i) => {
            let none = AuditPage::empty(PAGE_SIZE);
            (StatusCode::UNPROCESSABLE_ENTITY, none, Some(i))
        }
    };
    let all = AuditQuery {
        system: Text::from("1"),
        ..q.clone()
    };
    page_with(
        status,
        &AuditLogPage {
            chrome,
            hidden_system: found.hidden_words(),
            pager: Pager::spot(PATH, &q, found.entries.spot, ("entry", "entries"))
                .labelled("Audit log pages"),
            events: found.entries.items,
            actions: AUDIT_ACTIONS.to_vec(),
            invalid,
            show_system_url: Pager::url(PATH, &all, "page", 1),
            filter,
        },
    )
}
