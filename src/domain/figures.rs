//! Numbers, counted nouns and durations as every door writes them to a
//! person: thousands separators everywhere, singular and plural right.

/// `20009` → `20,009`; negative numbers keep their sign.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `1, "tenant", "tenants"` → `1 tenant`; `20009, …` → `20,009 tenants`.
pub fn counted(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A noun counted with a regular plural (`tenant` → `tenants`).
pub fn plural(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", count(n))
    }
}

/// A rate per second as a person reads it: `3,121` from 100 up, one
/// decimal below (`42.5`, `0.3`).
pub fn rate(per_second: f64) -> String {
    let r = per_second.max(0.0);
    if r >= 100.0 {
        count(r.round() as i64)
    } else {
        format!("{:.1}", (r * 10.0).round() / 10.0)
    }
}

/// A duration in milliseconds, to its two largest units:
/// `850 ms`, `42 s`, `3 min 5 s`, `2 h 4 min`, `3 d 2 h`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    let secs = ms / 1_000;
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    let pair = |big: i64, bu: &str, small: i64, su: &str| {
        if small == 0 {
            format!("{big} {bu}")
        } else {
            format!("{big} {bu} {small} {su}")
        }
    };
    if d > 0 {
        pair(d, "d", h, "h")
    } else if h > 0 {
        pair(h, "h", m, "min")
    } else if m > 0 {
        pair(m, "min", s, "s")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(20_009), "20,009");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-4_500), "-4,500");
    }

    #[test]
    fn nouns_are_singular_for_one_only() {
        assert_eq!(plural(1, "tenant"), "1 tenant");
        assert_eq!(plural(0, "tenant"), "0 tenants");
        assert_eq!(plural(20_009, "tenant"), "20,009 tenants");
        assert_eq!(counted(1, "item", "items"), "1 item");
        assert_eq!(counted(250, "finding", "findings"), "250 findings");
        assert_eq!(counted(2, "entry", "entries"), "2 entries");
    }

    #[test]
    fn rates_are_whole_and_separated_from_a_hundred_up() {
        assert_eq!(rate(3121.04), "3,121");
        assert_eq!(rate(100.0), "100");
        assert_eq!(rate(42.46), "42.5");
        assert_eq!(rate(0.0), "0.0");
        assert_eq!(rate(-3.0), "0.0");
    }

    #[test]
    fn durations_show_their_two_largest_units() {
        assert_eq!(duration(-5), "0 ms");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(42_000), "42 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(duration(120_000), "2 min");
        assert_eq!(duration(7_440_000), "2 h 4 min");
        assert_eq!(duration(266_400_000), "3 d 2 h");
    }
}
