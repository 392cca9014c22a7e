//! A run's per-tenant results: each tenant's state and counts, the query
//! over them (filter, search, sort, page) and the box score. No I/O here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::TextKind;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    Queued,
    Running,
    Succeeded,
    Failed,
    NotStarted,
    Cancelled,
}

impl TenantState {
    pub const ALL: [TenantState; 6] = [
        TenantState::Queued,
        TenantState::Running,
        TenantState::Succeeded,
        TenantState::Failed,
        TenantState::NotStarted,
        TenantState::Cancelled,
    ];
    /// The states a retry may pick (the tenants that did not succeed and
    /// are done).
    pub const RETRYABLE: [TenantState; 3] = [
        TenantState::Failed,
        TenantState::NotStarted,
        TenantState::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TenantState::Queued => "queued",
            TenantState::Running => "running",
            TenantState::Succeeded => "succeeded",
            TenantState::Failed => "failed",
            TenantState::NotStarted => "not_started",
            TenantState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TenantState> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// A tenant state from a door; unknown is bad input.
    /// (Stored states are checked by the database; they read through this.)
    pub fn parse_input(s: &str) -> Result<TenantState> {
        Self::parse(s.trim()).ok_or_else(|| {
            Error::BadInput(format!(
                "unknown tenant state {:?} (queued, running, succeeded, failed, not_started, cancelled)",
                s.chars().take(40).collect::<String>()
            ))
        })
    }

    /// The states a retry picks from a door's comma list; blank means all
    /// retryable states, a state that cannot be retried is bad input.
    pub fn parse_retry_states(raw: Option<&str>) -> Result<Vec<TenantState>> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.is_empty() {
            return Ok(Self::RETRYABLE.to_vec());
        }
        let mut states = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let state = Self::parse_input(part)?;
            if !Self::RETRYABLE.contains(&state) {
                return Err(Error::BadInput(format!(
                    "only failed, not_started and cancelled tenants can be retried, not {}",
                    state.as_str()
                )));
            }
            if !states.contains(&state) {
                states.push(state);
            }
        }
        if states.is_empty() {
            return Ok(Self::RETRYABLE.to_vec());
        }
        Ok(states)
    }
}

impl TryFrom<String> for TenantState {
    type Error = Error;

    fn try_from(stored: String) -> Result<TenantState> {
        Self::parse_input(&stored)
    }
}

/// One tenant of a run, as every door shows it and as it is read (its
/// duration is worked out from its times, [`TenantRow::timed`]).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct TenantRow {
    pub tenant_id: i64,
    pub external_id: String,
    #[sqlx(try_from = "String")]
    pub state: TenantState,
    pub items_expected: Option<i64>,
    pub items_updated: i64,
    pub items_skipped: i64,
    pub items_failed: i64,
    pub attempts: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[sqlx(skip)]
    pub duration_ms: Option<i64>,
    pub reason_code: Option<String>,
    pub message: Option<String>,
}

impl TenantRow {
    /// The row with its duration: from start to finish, once finished.
    pub fn timed(self) -> TenantRow {
        let duration_ms = match (self.started_at, self.finished_at) {
            (Some(s), Some(f)) => Some((f - s).num_milliseconds().max(0)),
            _ => None,
        };
        TenantRow {
            duration_ms,
            ..self
        }
    }
}

/// Tenants per state; the parts always add up to `total`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BoxScore {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub not_started: i64,
    pub cancelled: i64,
    pub total: i64,
}

impl BoxScore {
    pub fn from_counts(counts: &[(String, i64)]) -> BoxScore {
        let mut b = BoxScore::default();
        for (state, n) in counts {
            match TenantState::parse(state) {
                Some(TenantState::Queued) => b.queued += n,
                Some(TenantState::Running) => b.running += n,
                Some(TenantState::Succeeded) => b.succeeded += n,
                Some(TenantState::Failed) => b.failed += n,
                Some(TenantState::NotStarted) => b.not_started += n,
                Some(TenantState::Cancelled) => b.cancelled += n,
                None => {}
            }
            b.total += n;
        }
        b
    }

    pub fn get(&self, state: TenantState) -> i64 {
        match state {
            TenantState::Queued => self.queued,
            TenantState::Running => self.running,
            TenantState::Succeeded => self.succeeded,
            TenantState::Failed => self.failed,
            TenantState::NotStarted => self.not_started,
            TenantState::Cancelled => self.cancelled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantSort {
    ExternalId,
    State,
    Duration,
    ItemsUpdated,
    ItemsFailed,
    Attempts,
    StartedAt,
}

impl TenantSort {
    pub const ALL: [TenantSort; 7] = [
        TenantSort::ExternalId,
        TenantSort::State,
        TenantSort::Duration,
        TenantSort::ItemsUpdated,
        TenantSort::ItemsFailed,
        TenantSort::Attempts,
        TenantSort::StartedAt,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TenantSort::ExternalId => "external_id",
            TenantSort::State => "state",
            TenantSort::Duration => "duration",
            TenantSort::ItemsUpdated => "items_updated",
            TenantSort::ItemsFailed => "items_failed",
            TenantSort::Attempts => "attempts",
            TenantSort::StartedAt => "started_at",
        }
    }
}

/// The largest page a door may ask for.
pub const MAX_PER_PAGE: i64 = 500;
pub const DEFAULT_PER_PAGE: i64 = 50;

/// Which tenants of a run, in what order, which page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantQuery {
    pub state: Option<TenantState>,
    /// Part of the tenant's external id (case-insensitive).
    pub search: Option<String>,
    pub sort: TenantSort,
    pub descending: bool,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
}

impl Default for TenantQuery {
    fn default() -> Self {
        TenantQuery {
            state: None,
            search: None,
            sort: TenantSort::ExternalId,
            descending: false,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl TenantQuery {
    /// A query from a door's text. `sort` is a field, `-field` for
    /// descending, or `field:desc`/`field:asc`; blank values mean defaults.
    pub fn parse(
        state: Option<&str>,
        search: Option<&str>,
        sort: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<TenantQuery> {
        let checked = |field, v| TextKind::FILTER.optional(field, v).map_err(Error::BadInput);
        let state = checked("state", state)?
            .map(TenantState::parse_input)
            .transpose()?;
        let search = checked("q", search)?.map(str::to_owned);
        let mut q = TenantQuery {
            state,
            search,
            ..TenantQuery::default()
        };
        if let Some(raw) = checked("sort", sort)? {
            let (field, desc) = if let Some(f) = raw.strip_prefix('-') {
                (f, true)
            } else if let Some(f) = raw.strip_suffix(":desc") {
                (f, true)
            } else {
                (raw.strip_suffix(":asc").unwrap_or(raw), false)
            };
            q.sort = TenantSort::ALL
                .into_iter()
                .find(|s| s.as_str() == field)
                .ok_or_else(|| {
                    let names: Vec<&str> = TenantSort::ALL.iter().map(|s| s.as_str()).collect();
                    Error::BadInput(format!(
                        "unknown sort {:?} (one of {}, optionally -field for descending)",
                        raw,
                        names.join(", ")
                    ))
                })?;
            q.descending = desc;
        }
        fn number(field: &str, v: Option<&str>, max: i64) -> Result<Option<i64>> {
            match TextKind::FILTER
                .optional(field, v)
                .map_err(Error::BadInput)?
            {
                None => Ok(None),
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(Error::BadInput(format!(
                        "{field} must be a whole number from 1 to {max}, not {v:?}"
                    ))),
                },
            }
        }
        q.page = number("page", page, 1_000_000)?.unwrap_or(1);
        q.per_page = number("per_page", per_page, MAX_PER_PAGE)?.unwrap_or(DEFAULT_PER_PAGE);
        Ok(q)
    }

    pub fn offset(&self) -> i64 {
        (self.page.max(1) - 1) * self.per_page
    }
}

/// One page of a run's tenants with the box score of the whole run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantPage {
    pub run_id: i64,
    pub rows: Vec<TenantRow>,
    /// Tenants matching the filter and search (all pages).
    pub matching: i64,
    pub page: i64,
    pub per_page: i64,
    pub box_score: BoxScore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parses_and_rejects() {
        let q = TenantQuery::parse(
            Some("failed"),
            Some("acme"),
            Some("-duration"),
            Some("2"),
            Some("500"),
        )
        .unwrap();
        assert_eq!(q.state, Some(TenantState::Failed));
        assert_eq!(q.sort, TenantSort::Duration);
        assert!(q.descending);
        assert_eq!(q.offset(), 500);
        assert!(TenantQuery::parse(None, None, None, None, Some("501")).is_err());
        assert!(TenantQuery::parse(Some("pending"), None, None, None, None).is_err());
        assert!(TenantQuery::parse(None, None, Some("bogus"), None, None).is_err());
        assert!(TenantQuery::parse(None, None, None, Some("0"), None).is_err());
        let d = TenantQuery::parse(Some(""), None, Some("state:asc"), None, None).unwrap();
        assert_eq!(
            (d.state, d.sort, d.descending, d.per_page),
            (None, TenantSort::State, false, 50)
        );
    }

    #[test]
    fn retry_states_default_to_all_three() {
        assert_eq!(TenantState::parse_retry_states(None).unwrap().len(), 3);
        assert_eq!(
            TenantState::parse_retry_states(Some("not_started, cancelled")).unwrap(),
            vec![TenantState::NotStarted, TenantState::Cancelled]
        );
        assert!(TenantState::parse_retry_states(Some("succeeded")).is_err());
        assert!(TenantState::parse_retry_states(Some("nope")).is_err());
    }

    #[test]
    fn box_score_adds_up() {
        let b = BoxScore::from_counts(&[
            ("queued".into(), 2),
            ("failed".into(), 3),
            ("not_started".into(), 1),
        ]);
        assert_eq!((b.queued, b.failed, b.not_started, b.total), (2, 3, 1, 6));
    }
}
