//! What the console reads hand to the doors: ready to show, no storage rows.

use chrono::{DateTime, Utc};

use crate::storage::findings::FindingRow;
use crate::storage::notifications::Notification;

/// Which page of a list, and how long a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based.
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub fn new(number: i64, size: i64) -> Page {
        Page {
            number: number.max(1),
            size: size.max(1),
        }
    }

    /// One more than a page, to learn whether another page exists.
    pub(crate) fn probe_limit(&self) -> i64 {
        self.size + 1
    }

    pub(crate) fn offset(&self) -> i64 {
        (self.number - 1) * self.size
    }

    /// Cuts what `probe_limit` fetched down to the page.
    pub(crate) fn cut<T>(&self, mut items: Vec<T>) -> Paged<T> {
        let has_more = items.len() as i64 > self.size;
        items.truncate(self.size as usize);
        Paged {
            items,
            page: self.number,
            has_more,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub has_more: bool,
}

/// A notification of an operator (the bell).
#[derive(Debug, Clone)]
pub struct NotificationItem {
    pub id: i64,
    pub title: String,
    /// The body in one line.
    pub summary: String,
    /// A page of the console, or empty: nothing else is linked.
    pub url: String,
    pub unread: bool,
    pub created_at: DateTime<Utc>,
}

impl NotificationItem {
    pub(crate) fn of(n: &Notification) -> NotificationItem {
        let body: serde_json::Value =
            serde_json::from_str(&n.body).unwrap_or(serde_json::Value::Null);
        let summary = match &body {
            serde_json::Value::Object(map) if map.get("summary").is_some_and(|s| s.is_string()) => {
                map["summary"].as_str().unwrap_or_default().to_owned()
            }
            serde_json::Value::Object(map) => map
                .iter()
                .filter(|(k, _)| k.as_str() != "url")
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(" · "),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        // Only our own pages are linked.
        let url = n
            .url
            .clone()
            .filter(|u| u.starts_with("/system/") && !u.starts_with("//"))
            .unwrap_or_default();
        NotificationItem {
            id: n.id,
            title: n.title.clone(),
            summary,
            url,
            unread: n.read_at.is_none(),
            created_at: n.created_at,
        }
    }
}

/// A tenant to pick as a run's scope.
#[derive(Debug, Clone)]
pub struct TenantChoice {
    pub external_id: String,
    pub name: String,
}

/// A finding as the customer plane lists it.
#[derive(Debug, Clone)]
pub struct FindingItem {
    pub id: i64,
    pub tenant: String,
    pub title: String,
    pub severity: String,
    /// The lifecycle status, or the legacy state of a finding not yet migrated.
    pub status: String,
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Still open and past its SLA.
    pub overdue: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl FindingItem {
    pub(crate) fn of(f: &FindingRow, now: DateTime<Utc>) -> FindingItem {
        let open = matches!(f.status.as_deref(), Some("new") | Some("acknowledged"));
        FindingItem {
            id: f.id,
            tenant: f.tenant_external_id.clone(),
            title: f.title.clone(),
            severity: f.severity.clone(),
            status: f
                .status
                .clone()
                .unwrap_or_else(|| format!("{} (not migrated)", f.legacy_state)),
            sla_due_at: f.sla_due_at,
            overdue: open && f.sla_due_at.is_some_and(|d| d < now),
            last_seen_at: f.last_seen_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_fetches_one_more_to_know_if_another_exists() {
        let page = Page::new(2, 3);
        assert_eq!((page.probe_limit(), page.offset()), (4, 3));
        let full = page.cut(vec![1, 2, 3, 4]);
        assert_eq!(
            (full.items, full.page, full.has_more),
            (vec![1, 2, 3], 2, true)
        );
        let last = page.cut(vec![1, 2]);
        assert_eq!((last.items, last.has_more), (vec![1, 2], false));
        assert_eq!(Page::new(0, 0), Page::new(1, 1));
    }
}
