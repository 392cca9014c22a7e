//! The pager of a counted list: "page N of M" with the total, links that
//! keep the filters, and the first and last pages one click away.

use crate::domain::PageSpot;

#[derive(Debug, Clone)]
pub struct NumberedPager {
    pub page: i64,
    pub pages: i64,
    /// The total, with thousands separators.
    pub total: String,
    /// `entry` or `entries` as the total needs.
    pub noun: String,
    pub first_url: Option<String>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub last_url: Option<String>,
}

/// `12,345`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

impl NumberedPager {
    /// `query` holds the filters (empty ones are left out); `param` names
    /// the page in the query string.
    pub fn new(
        path: &str,
        query: &[(&str, String)],
        param: &str,
        spot: PageSpot,
        (one, many): (&str, &str),
    ) -> NumberedPager {
        let url = |p: i64| {
            let mut q: Vec<(&str, String)> = query
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect();
            if p > 1 {
                q.push((param, p.to_string()));
            }
            match serde_urlencoded::to_string(&q) {
                Ok(s) if !s.is_empty() => format!("{path}?{s}"),
                _ => path.to_owned(),
            }
        };
        let before = spot.page > 1;
        let after = spot.page < spot.pages;
        NumberedPager {
            page: spot.page,
            pages: spot.pages,
            total: thousands(spot.total),
            noun: if spot.total == 1 { one } else { many }.to_owned(),
            first_url: before.then(|| url(1)),
            prev_url: before.then(|| url(spot.page - 1)),
            next_url: after.then(|| url(spot.page + 1)),
            last_url: after.then(|| url(spot.pages)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_links() {
        assert_eq!(thousands(20_009), "20,009");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        let p = NumberedPager::new(
            "/x",
            &[("actor", "a b".into()), ("action", String::new())],
            "page",
            PageSpot::clamp(2, 10, 25),
            ("entry", "entries"),
        );
        assert_eq!(p.first_url.as_deref(), Some("/x?actor=a+b"));
        assert_eq!(p.next_url.as_deref(), Some("/x?actor=a+b&page=3"));
        assert_eq!((p.page, p.pages, p.noun.as_str()), (2, 3, "entries"));
    }
}
