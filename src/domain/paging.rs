//! Numbered pages of a list whose total is known: "page N of M", with a
//! page past the end shown as the last one rather than as an empty list.

/// Where one page of a counted list lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSpot {
    /// 1-based, within `1..=pages`.
    pub page: i64,
    /// At least 1: an empty list has one (empty) page.
    pub pages: i64,
    pub total: i64,
    pub size: i64,
}

impl PageSpot {
    /// The page asked for, clamped into the list.
    pub fn clamp(requested: i64, size: i64, total: i64) -> PageSpot {
        let size = size.max(1);
        let total = total.max(0);
        let pages = ((total + size - 1) / size).max(1);
        PageSpot {
            page: requested.clamp(1, pages),
            pages,
            total,
            size,
        }
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }
}

/// One numbered page of a list.
#[derive(Debug, Clone)]
pub struct Numbered<T> {
    pub items: Vec<T>,
    pub spot: PageSpot,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_and_clamped() {
        let s = PageSpot::clamp(999, 25, 51);
        assert_eq!((s.page, s.pages, s.offset()), (3, 3, 50));
        let s = PageSpot::clamp(0, 25, 0);
        assert_eq!((s.page, s.pages, s.offset()), (1, 1, 0));
        assert_eq!(PageSpot::clamp(2, 25, 50).pages, 2);
    }
}
