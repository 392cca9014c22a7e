//! The audit log as the console searches and shows it: filters checked
//! field by field, details as `key: value` lines, subjects as links to what
//! they name, numbered pages with the total.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::accounts::OperatorIdentity;
use crate::domain::figures::count;
use crate::domain::{Capability, Checked, Invalid, Numbered, PageSpot, TextKind};
use crate::error::Result;
use crate::storage::audit::AuditRow;
use crate::storage::audit::{self as store, AuditSearch};

use crate::storage::Db;

/// The audit log's search, for operators who may view operations.
#[derive(Clone)]
pub struct AuditLogService {
    db: Db,
}

impl AuditLogService {
    pub fn new(db: Db) -> AuditLogService {
        AuditLogService { db }
    }
}

/// The audit filters as typed; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// `YYYY-MM-DD`, the first day shown (UTC).
    pub from: String,
    /// `YYYY-MM-DD`, the last day shown (UTC).
    pub to: String,
    /// Show what the system did by itself (`run.completed`); hidden by default.
    pub include_system: bool,
}

/// Actions to suggest in the filter; any prefix of an action also works.
pub const AUDIT_ACTIONS: [&str; 16] = [
    "alert.",
    "alert.delivery.retry",
    "alert.destination.",
    "alert.rule.",
    "account.",
    "login.",
    "login.succeeded",
    "login.failed",
    "login.throttled",
    "run.",
    "run.start",
    "run.cancel",
    "run.retry_failed",
    "run.completed",
    "runbook.",
    "runbook.preflight",
];

/// An audit entry as the console shows it.
#[derive(Debug, Clone)]
pub struct AuditEntryView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The actor's email, else what it is (`CLI`, `deploy hook`, `system`).
    pub actor: String,
    pub system: bool,
    pub action: String,
    pub subject: String,
    /// A console page of the subject, when it has one.
    pub subject_url: Option<String>,
    /// The detail as `key: value` pairs, nested keys joined by dots.
    pub details: Vec<(String, String)>,
    pub ip: String,
}

/// A page of the search, and how many system events it left out.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Numbered<AuditEntryView>,
    /// Entries of the system that match but are hidden (0 when shown).
    pub hidden_system: i64,
}

impl AuditPage {
    /// A page with nothing found (what a wrong filter shows).
    pub fn empty(size: i64) -> AuditPage {
        AuditPage {
            entries: Numbered {
                items: Vec::new(),
                spot: PageSpot::clamp(1, size, 0),
            },
            hidden_system: 0,
        }
    }

    /// "12 system events hidden"; nothing when none are.
    pub fn hidden_words(&self) -> String {
        match self.hidden_system {
            0 => String::new(),
            1 => "1 system event hidden".into(),
            n => format!("{} system events hidden", count(n)),
        }
    }
}

impl AuditEntryView {
    fn of(a: &AuditRow) -> AuditEntryView {
        let subject = a.subject.clone().unwrap_or_default();
        AuditEntryView {
            id: a.id,
            created_at: a.created_at,
            actor: match (&a.actor_email, a.actor_kind.as_str()) {
                (Some(email), _) => email.clone(),
                (None, "cli") => "CLI".into(),
                (None, "deploy") => "deploy hook".into(),
                (None, kind) => kind.to_owned(),
            },
            system: a.actor_kind == "system",
            action: a.action.clone(),
            subject_url: subject_url(&subject),
            subject,
            details: details(&a.detail),
            ip: a.ip.clone().unwrap_or_default(),
        }
    }
}

/// The console page a subject names: runs, runbooks, alert destinations,
/// rules and deliveries.
pub fn subject_url(subject: &str) -> Option<String> {
    let (kind, id) = subject.split_once(':')?;
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    let plain_key = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    match kind {
        "run" if numeric => Some(format!("/system/runs/{id}")),
        "runbook" if plain_key => Some(format!("/system/runbooks/{id}")),
        "alert_destination" if numeric => Some(format!("/system/alerts/destinations/{id}/edit")),
        "alert_rule" if numeric => Some(format!("/system/alerts/rules/{id}/edit")),
        "alert_delivery" if numeric => Some(format!("/system/alerts?delivery={id}#delivery-{id}")),
        _ => None,
    }
}

/// The detail JSON as `key: value` pairs; nested objects flattened with
/// dotted keys, lists joined by commas.
pub fn details(detail: &str) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        use serde_json::Value;
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(plain).collect();
                out.push((prefix.to_owned(), parts.join(", ")));
            }
            other => out.push((prefix.to_owned(), plain(other))),
        }
    }
    fn plain(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "—".into(),
            other => other.to_string(),
        }
    }
    let mut out = Vec::new();
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(map)) if map.is_empty() => {}
        Ok(v @ serde_json::Value::Object(_)) => walk("", &v, &mut out),
        Ok(serde_json::Value::Null) => {}
        Ok(other) => out.push(("detail".into(), plain(&other))),
        Err(_) if detail.trim().is_empty() => {}
        Err(_) => out.push(("detail".into(), detail.to_owned())),
    }
    out
}

fn day(field: &'static str, raw: &str) -> Checked<Option<NaiveDate>> {
    let raw = TextKind::FILTER
        .check(field, raw)
        .map_err(Invalid::at(field))?;
    if raw.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            Invalid::new(
                field,
                format!("{raw:?} is not a date: use YYYY-MM-DD, e.g. 2026-03-31"),
            )
        })
}

fn text(field: &'static str, raw: &str) -> Checked<Option<String>> {
    Ok(TextKind::FILTER
        .optional(field, Some(raw))
        .map_err(Invalid::at(field))?
        .map(str::to_owned))
}

impl AuditFilter {
    fn search(&self) -> Checked<AuditSearch> {
        let (from, to) = (day("from", &self.from)?, day("to", &self.to)?);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            return Err(Invalid::new("to", "the last day is before the first day"));
        }
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        Ok(AuditSearch {
            actor: text("actor", &self.actor)?,
            action: text("action", &self.action)?,
            subject: text("subject", &self.subject)?,
            since: from.and_then(midnight),
            until: to.and_then(|d| midnight(d + Duration::days(1))),
            hide_system: !self.include_system,
        })
    }
}

impl AuditLogService {
    /// The audit log, newest first, searched by `filter`; `page` is clamped
    /// into the result.
    pub async fn audit_search(
        &self,
        op: &OperatorIdentity,
        filter: &AuditFilter,
        page: i64,
        size: i64,
    ) -> Result<Checked<AuditPage>> {
        op.capabilities.require(Capability::OPERATIONS_VIEW)?;
        let search = match filter.search() {
            Ok(s) => s,
            Err(invalid) => return Ok(Err(invalid)),
        };
        let total = store::count(&self.db, &search).await?;
        let hidden_system = if search.hide_system {
            let all = AuditSearch {
                hide_system: false,
                ..search.clone()
            };
            store::count(&self.db, &all).await? - total
        } else {
            0
        };
        let spot = PageSpot::clamp(page, size, total);
        let rows = store::search(&self.db, &search, spot.size, spot.offset()).await?;
        Ok(Ok(AuditPage {
            entries: Numbered {
                items: rows.iter().map(AuditEntryView::of).collect(),
                spot,
            },
            hidden_system,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_read_as_key_value_lines() {
        let d = details(r#"{"name":"Ops","ids":[1,2],"counts":{"total":5},"error":null}"#);
        assert_eq!(
            d,
            vec![
                ("name".into(), "Ops".into()),
                ("ids".into(), "1, 2".into()),
                ("counts.total".into(), "5".into()),
                ("error".into(), "—".into()),
            ]
        );
        assert!(details("{}").is_empty());
        assert_eq!(details("oops"), vec![("detail".into(), "oops".into())]);
    }

    #[test]
    fn subjects_link_to_their_page() {
        assert_eq!(subject_url("run:12").as_deref(), Some("/system/runs/12"));
        assert_eq!(
            subject_url("alert_destination:3").as_deref(),
            Some("/system/alerts/destinations/3/edit")
        );
        assert_eq!(subject_url("run:x/../y"), None);
        assert_eq!(subject_url("tenant:5"), None);
    }

    #[test]
    fn filters_name_the_wrong_field() {
        let f = AuditFilter {
            from: "2026-02-30".into(),
            ..AuditFilter::default()
        };
        assert_eq!(f.search().unwrap_err().field, "from");
        let f = AuditFilter {
            from: "2026-03-02".into(),
            to: "2026-03-01".into(),
            ..AuditFilter::default()
        };
        assert_eq!(f.search().unwrap_err().field, "to");
        let ok = AuditFilter {
            from: "2026-03-01".into(),
            to: "2026-03-01".into(),
            ..AuditFilter::default()
        }
        .search()
        .unwrap();
        assert_eq!(ok.until.unwrap() - ok.since.unwrap(), Duration::days(1));
        assert!(ok.hide_system);
    }
}
