//! Statements of the audit log as the console searches it: by actor,
//! action, subject and time, with system events left out on request, and
//! the total of a search for its pager.

use chrono::{DateTime, Utc};

use crate::args;
use crate::storage::{Arg, Db};

/// An audit entry as it is read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_kind: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub subject: Option<String>,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What to look for; every part is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditSearch {
    /// Part of the actor's email or kind (`cli`, `deploy`, `system`), any case.
    pub actor: Option<String>,
    /// The start of the action (`alert.` finds every alert action).
    pub action: Option<String>,
    /// The whole subject (`run:12`), or its kind when it ends with `:`.
    pub subject: Option<String>,
    /// From this instant on.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Leave out what the system did by itself (`run.completed`).
    pub hide_system: bool,
}

/// `%` and `_` typed by someone are meant literally.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

const WHERE: &str = "WHERE ($1 IS NULL OR lower(coalesce(actor_email, actor_kind)) LIKE $1 ESCAPE '\\') \
    AND ($2 IS NULL OR action LIKE $2 ESCAPE '\\') \
    AND ($3 IS NULL OR subject = $3 OR ($4 = 1 AND subject LIKE $5 ESCAPE '\\')) \
    AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7) \
    AND ($8 = 0 OR actor_kind <> 'system')";

fn search_args(s: &AuditSearch) -> Vec<Arg> {
    let subject_kind = s.subject.as_deref().is_some_and(|x| x.ends_with(':'));
    args![
        s.actor
            .as_deref()
            .map(|a| format!("%{}%", escape_like(&a.to_lowercase()))),
        s.action.as_deref().map(|a| format!("{}%", escape_like(a))),
        s.subject.clone(),
        i64::from(subject_kind),
        s.subject.as_deref().map(|x| format!("{}%", escape_like(x))),
        s.since,
        s.until,
        i64::from(s.hide_system),
    ]
}

/// One page of the search, newest first.
pub async fn search(
    db: &Db,
    s: &AuditSearch,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut args = search_args(s);
    args.extend(args![limit, offset]);
    db.fetch_all(
        &format!(
            "SELECT id, actor_kind, actor_email, action, subject, detail, ip, created_at \
             FROM audit_events {WHERE} ORDER BY id DESC LIMIT $9 OFFSET $10"
        ),
        args,
    )
    .await
}

/// How many entries the search finds.
pub async fn count(db: &Db, s: &AuditSearch) -> Result<i64, sqlx::Error> {
    db.scalar(
        &format!("SELECT count(*) FROM audit_events {WHERE}"),
        search_args(s),
    )
    .await
}
