//! The pager of every list: links to the first, previous, next and last
//! pages that keep the list's filters, and where the page stands ("page N
//! of M · total"). A list counted in full knows its last page; a list read
//! one page ahead knows only whether another follows.

use serde::Serialize;

use super::format::counted;
use crate::domain::PageSpot;

#[derive(Debug, Clone)]
pub struct Pager {
    pub page: i64,
    /// The last page, when the list is counted.
    pub pages: Option<i64>,
    /// The total with its noun ("33 entries"), when the list shows one.
    pub total: String,
    /// What the pager's landmark is called.
    pub label: &'static str,
    /// Back and on: `← Newer`, `Older →` for a list newest first.
    pub words: (&'static str, &'static str),
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

impl Pager {
    /// `path` with `filters` (a query struct; absent fields are left out) and
    /// page `page` under `param`, left out for the first page.
    pub fn url(path: &str, filters: &impl Serialize, param: &str, page: i64) -> String {
        let mut query = serde_urlencoded::to_string(filters).unwrap_or_default();
        if page > 1 {
            let sep = if query.is_empty() { "" } else { "&" };
            query = format!("{query}{sep}{param}={page}");
        }
        match query.is_empty() {
            true => path.to_owned(),
            false => format!("{path}?{query}"),
        }
    }

    /// Page `page` of `pages` of a counted list.
    pub fn counted(
        path: &str,
        filters: &impl Serialize,
        param: &str,
        page: i64,
        pages: i64,
    ) -> Pager {
        let url = |p| Some(Pager::url(path, filters, param, p));
        let (before, after) = (page > 1, page < pages);
        Pager {
            page,
            pages: Some(pages),
            total: String::new(),
            label: "Pages",
            words: ("← Previous", "Next →"),
            first: before.then(|| url(1)).flatten(),
            prev: before.then(|| url(page - 1)).flatten(),
            next: after.then(|| url(page + 1)).flatten(),
            last: after.then(|| url(pages)).flatten(),
        }
    }

    /// Where a counted list's page stands, with its total in words.
    pub fn spot(path: &str, filters: &impl Serialize, spot: PageSpot, noun: (&str, &str)) -> Pager {
        let mut pager = Pager::counted(path, filters, "page", spot.page, spot.pages).newest_first();
        pager.total = counted(spot.total, noun.0, noun.1);
        pager
    }

    /// Page `page` of a list read one page ahead, newest first.
    pub fn ahead(path: &str, filters: &impl Serialize, page: i64, has_more: bool) -> Pager {
        let url = |p| Pager::url(path, filters, "page", p);
        Pager {
            pages: None,
            first: None,
            prev: (page > 1).then(|| url(page - 1)),
            next: has_more.then(|| url(page + 1)),
            last: None,
            ..Pager::counted(path, filters, "page", page, page)
        }
        .newest_first()
    }

    pub fn newest_first(mut self) -> Pager {
        self.words = ("← Newer", "Older →");
        self
    }

    pub fn labelled(mut self, label: &'static str) -> Pager {
        self.label = label;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_links() {
        let filters = [("actor", "a b")];
        let p = Pager::spot(
            "/x",
            &filters,
            PageSpot::clamp(2, 10, 25),
            ("entry", "entries"),
        );
        assert_eq!(p.first.as_deref(), Some("/x?actor=a+b"));
        assert_eq!(p.next.as_deref(), Some("/x?actor=a+b&page=3"));
        assert_eq!(
            (p.page, p.pages, p.total.as_str()),
            (2, Some(3), "25 entries")
        );
    }
}
