//! Pages and fragments (askama templates under `templates/`) and the view
//! models they show. Formatting lives here; no decisions do.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::error::WebError;
use crate::alerts::rules::EVENTS;
use crate::alerts::{DestinationView, RuleView};
use crate::runs::{Initiator, Outcome, Run, RunStatus, Scope};
use crate::service::{Preflight, RunbookInfo};
use crate::storage::alerts::Delivery;
use crate::storage::console::{AuditRow, FindingRow, Notification};

/// Renders a template as an HTML response.
pub fn page<T: Template>(t: &T) -> Result<Response, WebError> {
    page_with(StatusCode::OK, t)
}

pub fn page_with<T: Template>(status: StatusCode, t: &T) -> Result<Response, WebError> {
    match t.render() {
        Ok(html) => Ok((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ))
        }
    }
}

pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn opt_time(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(time).unwrap_or_else(|| "—".into())
}

/// What every signed-in page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub plane: &'static str,
    pub section: &'static str,
    pub user_name: String,
    pub user_email: String,
    pub csrf: String,
    pub unread: i64,
    pub can_runbooks: bool,
    pub can_runs: bool,
    pub can_alerts: bool,
    pub workspace: String,
}

#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// `base_query` holds the filters; `has_more` whether another page exists.
    pub fn new(path: &str, base_query: &[(&str, String)], page: i64, has_more: bool) -> Pager {
        let url = |p: i64| {
            let mut q: Vec<(&str, String)> = base_query
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect();
            if p > 1 {
                q.push(("page", p.to_string()));
            }
            match serde_urlencoded::to_string(&q) {
                Ok(s) if !s.is_empty() => format!("{path}?{s}"),
                _ => path.to_owned(),
            }
        };
        Pager {
            page,
            prev_url: (page > 1).then(|| url(page - 1)),
            next_url: has_more.then(|| url(page + 1)),
        }
    }
}

pub fn status_label(s: RunStatus) -> &'static str {
    s.as_str()
}

pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::PartiallySucceeded => "partially succeeded",
        other => other.as_str(),
    }
}

pub fn initiator_label(i: &Initiator) -> String {
    match i {
        Initiator::PlatformUser { email, .. } => email.clone(),
        Initiator::Cli { os_user } => format!(
            "CLI{}",
            os_user
                .as_ref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ),
        Initiator::Deploy { release } => {
            format!(
                "deploy{}",
                release
                    .as_ref()
                    .map(|r| format!(" of release {r}"))
                    .unwrap_or_default()
            )
        }
    }
}

#[derive(Debug, Clone)]
pub struct FailureView {
    pub tenant: String,
    pub reason_code: String,
    pub message: String,
}

/// A run as the console shows it.
#[derive(Debug, Clone)]
pub struct RunView {
    pub id: i64,
    pub runbook: String,
    pub scope: String,
    pub status: &'static str,
    pub outcome: &'static str,
    pub outcome_class: &'static str,
    pub active: bool,
    pub total: i64,
    pub processed: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub items_updated: i64,
    pub items_skipped: i64,
    pub items_failed: i64,
    pub percent: i64,
    pub initiator: String,
    pub reason: String,
    pub created_at: String,
    pub started_at: String,
    pub completed_at: String,
    pub failures: Vec<FailureView>,
    pub retry_of: Option<i64>,
}

impl RunView {
    pub fn of(run: &Run) -> RunView {
        let c = &run.summary_counts;
        let percent = if c.total > 0 {
            (c.processed * 100 / c.total).clamp(0, 100)
        } else if run.is_active() {
            0
        } else {
            100
        };
        RunView {
            id: run.id,
            runbook: run.run_type.clone(),
            scope: run.context.scope.describe(),
            status: status_label(run.status),
            outcome: outcome_label(run.outcome),
            outcome_class: match run.outcome {
                Outcome::Pending => {
                    if run.status == RunStatus::Running {
                        "running"
                    } else {
                        "queued"
                    }
                }
                Outcome::Succeeded => "ok",
                Outcome::PartiallySucceeded => "warn",
                Outcome::Failed => "bad",
                Outcome::Cancelled => "muted",
            },
            active: run.is_active(),
            total: c.total,
            processed: c.processed,
            succeeded: c.succeeded,
            failed: c.failed,
            items_updated: c.items_updated,
            items_skipped: c.items_skipped,
            items_failed: c.items_failed,
            percent,
            initiator: initiator_label(&run.context.initiator),
            reason: run.context.reason.clone().unwrap_or_default(),
            created_at: time(&run.created_at),
            started_at: opt_time(&run.started_at),
            completed_at: opt_time(&run.completed_at),
            failures: run
                .failures
                .iter()
                .map(|f| FailureView {
                    tenant: f
                        .tenant_external_id
                        .clone()
                        .or_else(|| f.tenant_id.map(|id| format!("tenant #{id}")))
                        .unwrap_or_else(|| "—".into()),
                    reason_code: f.reason_code.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            retry_of: match &run.context.scope {
                Scope::Tenants { retry_of, .. } => Some(*retry_of),
                _ => None,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct NotificationView {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub url: String,
    pub unread: bool,
    pub created_at: String,
}

impl NotificationView {
    pub fn of(n: &Notification) -> NotificationView {
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
        NotificationView {
            id: n.id,
            title: n.title.clone(),
            summary,
            url,
            unread: n.read_at.is_none(),
            created_at: time(&n.created_at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuditView {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub ip: String,
}

impl AuditView {
    pub fn of(a: &AuditRow) -> AuditView {
        AuditView {
            when: time(&a.created_at),
            actor: a
                .actor_email
                .clone()
                .unwrap_or_else(|| a.actor_kind.clone()),
            action: a.action.clone(),
            subject: a.subject.clone().unwrap_or_default(),
            detail: if a.detail == "{}" {
                String::new()
            } else {
                a.detail.clone()
            },
            ip: a.ip.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FindingView {
    pub id: i64,
    pub tenant: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub sla_due: String,
    pub overdue: bool,
    pub last_seen: String,
}

impl FindingView {
    pub fn of(f: &FindingRow, now: DateTime<Utc>) -> FindingView {
        let open = matches!(f.status.as_deref(), Some("new") | Some("acknowledged"));
        FindingView {
            id: f.id,
            tenant: f.tenant_external_id.clone(),
            title: f.title.clone(),
            severity: f.severity.clone(),
            status: f
                .status
                .clone()
                .unwrap_or_else(|| format!("{} (not migrated)", f.legacy_state)),
            sla_due: f
                .sla_due_at
                .as_ref()
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "—".into()),
            overdue: open && f.sla_due_at.is_some_and(|d| d < now),
            last_seen: f
                .last_seen_at
                .as_ref()
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "—".into()),
        }
    }
}

// ---- templates ----

#[derive(Template)]
#[template(path = "shared/error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

pub fn error_page(status: StatusCode, message: &str) -> String {
    let t = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error"),
        message,
    };
    t.render()
        .unwrap_or_else(|_| format!("{} {}", status.as_u16(), message))
}

#[derive(Template)]
#[template(path = "shared/login.html")]
pub struct LoginPage {
    pub plane: &'static str,
    pub heading: &'static str,
    pub action: &'static str,
    pub csrf: String,
    pub email: String,
    pub next: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "system/dashboard.html")]
pub struct Dashboard {
    pub chrome: Chrome,
    pub active: Vec<RunView>,
    pub recent: Vec<RunView>,
    pub notifications: Vec<NotificationView>,
}

#[derive(Template)]
#[template(path = "system/runbooks.html")]
pub struct RunbooksPage {
    pub chrome: Chrome,
    pub runbooks: Vec<RunbookInfo>,
}

#[derive(Debug, Clone)]
pub struct TenantOption {
    pub external_id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct PreflightView {
    pub scope_label: String,
    pub tenants: i64,
    pub items_pending: i64,
    pub per_tenant: Vec<(String, i64)>,
    pub active_run_id: Option<i64>,
    pub can_start: bool,
}

impl PreflightView {
    pub fn of(p: &Preflight) -> PreflightView {
        PreflightView {
            scope_label: p.scope.describe(),
            tenants: p.tenants,
            items_pending: p.items_pending,
            per_tenant: p
                .per_tenant
                .iter()
                .map(|t| (t.tenant_external_id.clone(), t.items_pending))
                .collect(),
            active_run_id: p.active_run_id,
            can_start: p.can_start,
        }
    }
}

#[derive(Template)]
#[template(path = "system/runbook.html")]
pub struct RunbookPage {
    pub chrome: Chrome,
    pub runbook: RunbookInfo,
    pub tenants: Vec<TenantOption>,
    pub scope: String,
    pub tenant: String,
    pub preflight: Option<PreflightView>,
    pub error: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "system/runs.html")]
pub struct RunsPage {
    pub chrome: Chrome,
    pub runs: Vec<RunView>,
    pub runbooks: Vec<String>,
    pub runbook: String,
    pub status: String,
    pub outcome: String,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "system/run.html")]
pub struct RunPage {
    pub chrome: Chrome,
    pub run: RunView,
    pub can_act: bool,
}

#[derive(Template)]
#[template(path = "system/run_live.html")]
pub struct RunLive {
    pub run: RunView,
    pub can_act: bool,
}

#[derive(Template)]
#[template(path = "system/confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub run: RunView,
    pub action: &'static str,
    pub heading: &'static str,
    pub explanation: String,
    pub button: &'static str,
    pub with_reason: bool,
    pub error: String,
}

#[derive(Template)]
#[template(path = "system/notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub notifications: Vec<NotificationView>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "system/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub events: Vec<AuditView>,
    pub action: String,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/findings.html")]
pub struct FindingsPage {
    pub chrome: Chrome,
    pub findings: Vec<FindingView>,
    pub status: String,
    pub severity: String,
    pub tenant: String,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/runs.html")]
pub struct AdminRunsPage {
    pub chrome: Chrome,
    pub runs: Vec<RunView>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/run.html")]
pub struct AdminRunPage {
    pub chrome: Chrome,
    pub run: RunView,
}

// ---- alerts ----

/// What was typed into the alert forms, shown again with a 422.
/// The webhook URL is never among them: it is a secret.
#[derive(Debug, Clone, Default)]
pub struct AlertForms {
    pub destination_kind: String,
    pub destination_name: String,
    pub recipients: String,
    pub rule_name: String,
    pub rule_event: String,
    pub rule_severity: String,
    pub rule_cooldown: String,
    pub rule_quiet_hours: String,
    pub rule_timezone: String,
    pub rule_destinations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct DestinationRowView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub target: String,
    pub created_at: String,
    /// Checked in the rule form.
    pub checked: bool,
}

#[derive(Debug, Clone)]
pub struct RuleRowView {
    pub id: i64,
    pub name: String,
    pub event: String,
    pub min_severity: String,
    pub cooldown_seconds: i64,
    pub quiet_hours: String,
    pub destinations: String,
}

#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub id: i64,
    pub event: String,
    pub destination: String,
    pub status: String,
    pub status_class: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created_at: String,
    pub sent_at: String,
}

#[derive(Template)]
#[template(path = "system/alerts.html")]
pub struct AlertsPage {
    pub chrome: Chrome,
    pub flash: String,
    pub error: String,
    pub destinations: Vec<DestinationRowView>,
    pub rules: Vec<RuleRowView>,
    pub deliveries: Vec<DeliveryView>,
    pub events: Vec<&'static str>,
    pub severities: Vec<&'static str>,
    pub forms: AlertForms,
}

impl AlertsPage {
    pub fn new(
        chrome: Chrome,
        flash: String,
        error: String,
        destinations: &[DestinationView],
        rules: &[RuleView],
        deliveries: &[Delivery],
        forms: AlertForms,
    ) -> AlertsPage {
        let name_of = |id: i64| {
            destinations
                .iter()
                .find(|d| d.id == id)
                .map(|d| format!("{} (#{id})", d.name))
                .unwrap_or_else(|| format!("#{id}"))
        };
        AlertsPage {
            chrome,
            flash,
            error,
            destinations: destinations
                .iter()
                .map(|d| DestinationRowView {
                    id: d.id,
                    name: d.name.clone(),
                    kind: d.kind.clone(),
                    target: d.target.clone(),
                    created_at: time(&d.created_at),
                    checked: forms.rule_destinations.contains(&d.id.to_string()),
                })
                .collect(),
            rules: rules
                .iter()
                .map(|r| RuleRowView {
                    id: r.id,
                    name: r.name.clone(),
                    event: r.event.clone(),
                    min_severity: r.min_severity.clone(),
                    cooldown_seconds: r.cooldown_seconds,
                    quiet_hours: match (&r.quiet_hours, &r.timezone) {
                        (Some(w), Some(tz)) => format!("{w} {tz}"),
                        (Some(w), None) => w.clone(),
                        _ => "—".into(),
                    },
                    destinations: r
                        .destination_ids
                        .iter()
                        .map(|id| name_of(*id))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            deliveries: deliveries
                .iter()
                .map(|d| DeliveryView {
                    id: d.id,
                    event: d.event.clone(),
                    destination: d
                        .destination_id
                        .map(name_of)
                        .unwrap_or_else(|| "deleted".into()),
                    status: d.status.clone(),
                    status_class: match d.status.as_str() {
                        "sent" => "ok",
                        "failed" => "bad",
                        "deferred" => "warn",
                        "queued" => "queued",
                        _ => "muted",
                    },
                    attempts: d.attempts,
                    last_error: d.last_error.clone().unwrap_or_default(),
                    created_at: time(&d.created_at),
                    sent_at: opt_time(&d.sent_at),
                })
                .collect(),
            events: EVENTS.to_vec(),
            severities: vec!["low", "medium", "high", "critical"],
            forms,
        }
    }
}

#[derive(Template)]
#[template(path = "system/alert_confirm.html")]
pub struct AlertConfirmPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub subject: String,
    pub explanation: &'static str,
    pub action: String,
    pub button: &'static str,
}
