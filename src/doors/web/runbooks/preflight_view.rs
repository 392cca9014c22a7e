//! The preflight as the runbook page shows it: the service's preflight
//! (templates read it through the view) and its per-tenant table sorted by
//! pending items (largest first), filtered and paged.

use std::ops::Deref;

use super::super::kit::Pager;
use super::super::kit::format::{count, plural};
use crate::runbooks::{Preflight, TenantPending};

/// Rows of the per-tenant table on one page.
pub const TENANT_ROWS: usize = 50;

#[derive(Debug, Clone)]
pub struct PreflightView {
    p: Preflight,
    /// What the runbook's items are called ("findings").
    pub item_noun: &'static str,
    /// The page of the per-tenant table.
    pub rows: Vec<TenantPending>,
    /// "12 of 20,009 tenants match" when filtered.
    pub rows_summary: String,
    pub pager: Pager,
    pub filter: String,
}

impl Deref for PreflightView {
    type Target = Preflight;

    fn deref(&self) -> &Preflight {
        &self.p
    }
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
    pub fn of(p: Preflight, item_noun: &'static str, ask: TableAsk<'_>) -> PreflightView {
        let mut sorted: Vec<&TenantPending> = p.per_tenant.iter().collect();
        sorted.sort_by(|a, b| {
            b.items_pending
                .cmp(&a.items_pending)
                .then_with(|| a.tenant_external_id.cmp(&b.tenant_external_id))
        });
        let filter = ask.filter.trim().to_owned();
        let needle = filter.to_lowercase();
        let matching: Vec<_> = sorted
            .into_iter()
            .filter(|t| t.tenant_external_id.to_lowercase().contains(&needle))
            .collect();
        let pages = (matching.len().div_ceil(TENANT_ROWS)).max(1) as i64;
        let page = ask.page.clamp(1, pages);
        let rows = matching.iter().skip((page - 1) as usize * TENANT_ROWS);
        let rows = rows.take(TENANT_ROWS).map(|t| (*t).clone()).collect();
        let mut pairs = ask.pairs;
        if !needle.is_empty() {
            pairs.push(("pq", filter.clone()));
        }
        let tenants = plural(p.tenants, "tenant");
        PreflightView {
            rows_summary: match needle.is_empty() {
                true => format!("{tenants} by items pending, largest first"),
                false => format!("{} of {tenants} match", count(matching.len() as i64)),
            },
            pager: Pager::counted(&ask.path, &pairs, "pp", page, pages),
            item_noun,
            rows,
            filter,
            p,
        }
    }

    pub fn tenants_with_work(&self) -> i64 {
        self.per_tenant
            .iter()
            .filter(|t| t.items_pending > 0)
            .count() as i64
    }

    pub fn nothing_to_do(&self) -> bool {
        self.items_pending == 0 && self.active_run_id.is_none()
    }
}
