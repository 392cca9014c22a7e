//! The preflight as the runbook page shows it: counts in words, when it was
//! taken, whether there is anything to do, and its per-tenant table sorted
//! by pending items (largest first), filtered and paged.

use super::super::kit::format::{count, counted, plural};
use super::super::kit::{Pager, TimeTag};
use crate::runbooks::{Preflight, TenantPending};

/// Rows of the per-tenant table on one page.
pub const TENANT_ROWS: usize = 50;

#[derive(Debug, Clone)]
pub struct PreflightView {
    pub scope_label: String,
    pub tenants: String,
    pub items_pending: String,
    /// "20,009 tenants, 250 findings".
    pub summary: String,
    pub tenants_with_work: String,
    pub taken_at: TimeTag,
    /// What the start form sends back, to be checked against a fresh count.
    pub seen_tenants: i64,
    pub seen_items: i64,
    pub seen_active: String,
    pub nothing_to_do: bool,
    pub active_run_id: Option<i64>,
    pub can_start: bool,
    /// The page of the per-tenant table.
    pub rows: Vec<TenantPending>,
    /// "12 of 20,009 tenants match" when filtered.
    pub rows_summary: String,
    pub pager: Pager,
    pub filter: String,
}

/// The per-tenant table's filter and page, as asked.
pub struct TableAsk<'a> {
    pub filter: &'a str,
    pub page: i64,
    /// The page's own query pairs (scope, tenant), for the table's links.
    pub pairs: Vec<(&'static str, String)>,
    pub path: String,
}

impl PreflightView {
    pub fn of(p: &Preflight, item_noun: &str, ask: TableAsk<'_>) -> PreflightView {
        let singular = item_noun.strip_suffix('s').unwrap_or(item_noun);
        let items = |n: i64| counted(n, singular, item_noun);
        let mut sorted: Vec<&TenantPending> = p.per_tenant.iter().collect();
        sorted.sort_by(|a, b| {
            b.items_pending
                .cmp(&a.items_pending)
                .then_with(|| a.tenant_external_id.cmp(&b.tenant_external_id))
        });
        let needle = ask.filter.trim().to_lowercase();
        let matching: Vec<_> = sorted
            .into_iter()
            .filter(|t| needle.is_empty() || t.tenant_external_id.to_lowercase().contains(&needle))
            .collect();
        let pages = (matching.len().div_ceil(TENANT_ROWS)).max(1) as i64;
        let page = ask.page.clamp(1, pages);
        let rows = matching
            .iter()
            .skip((page - 1) as usize * TENANT_ROWS)
            .take(TENANT_ROWS)
            .map(|t| (*t).clone())
            .collect();
        let mut pairs = ask.pairs;
        if !needle.is_empty() {
            pairs.push(("pq", ask.filter.trim().to_owned()));
        }
        let with_work = p.per_tenant.iter().filter(|t| t.items_pending > 0).count() as i64;
        PreflightView {
            scope_label: p.scope.describe(),
            tenants: count(p.tenants),
            items_pending: count(p.items_pending),
            summary: format!(
                "{}, {}",
                plural(p.tenants, "tenant"),
                items(p.items_pending)
            ),
            tenants_with_work: count(with_work),
            taken_at: TimeTag::at(&p.taken_at),
            seen_tenants: p.tenants,
            seen_items: p.items_pending,
            seen_active: p.active_run_id.map(|id| id.to_string()).unwrap_or_default(),
            nothing_to_do: p.items_pending == 0 && p.active_run_id.is_none(),
            active_run_id: p.active_run_id,
            can_start: p.can_start,
            rows,
            rows_summary: if needle.is_empty() {
                format!(
                    "{} by items pending, largest first",
                    plural(p.tenants, "tenant")
                )
            } else {
                format!(
                    "{} of {} match",
                    count(matching.len() as i64),
                    plural(p.tenants, "tenant")
                )
            },
            pager: Pager::counted(&ask.path, &pairs, "pp", page, pages),
            filter: ask.filter.trim().to_owned(),
        }
    }
}
