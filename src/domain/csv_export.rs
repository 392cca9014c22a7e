//! A run's tenants as a CSV export, the same bytes for the web's download
//! and the CLI's `--csv`. No I/O here: the text is written to memory.

use chrono::{DateTime, Utc};

use crate::domain::run_tenants::TenantRow;
use crate::error::{Error, Result};

/// The columns of a tenant results export.
pub const CSV_HEADER: &str = "external_id,state,items_expected,items_updated,items_skipped,items_failed,attempts,started_at,finished_at,duration_ms,reason_code,message";

/// Text a spreadsheet would read as a formula, with a leading apostrophe
/// (formula injection); anything else as it is.
fn defused(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}").into()
    } else {
        raw.into()
    }
}

/// A run's tenants as one CSV export, the header first (the web's download
/// and the CLI's `--csv` alike). The `csv` crate quotes (RFC 4180) and ends
/// every record with CRLF; text fields are [`defused`] first.
pub fn tenants_csv(rows: &[TenantRow]) -> Result<String> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * (rows.len() + 1)));
    let failed = |e: csv::Error| Error::Internal(anyhow::anyhow!("writing CSV: {e}"));
    out.write_record(CSV_HEADER.split(',')).map_err(failed)?;
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for r in rows {
        out.write_record([
            defused(&r.external_id).as_ref(),
            r.state.as_str(),
            &num(r.items_expected),
            &r.items_updated.to_string(),
            &r.items_skipped.to_string(),
            &r.items_failed.to_string(),
            &r.attempts.to_string(),
            &time(r.started_at),
            &time(r.finished_at),
            &num(r.duration_ms),
            &defused(r.reason_code.as_deref().unwrap_or("")),
            &defused(r.message.as_deref().unwrap_or("")),
        ])
        .map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(anyhow::anyhow!("writing CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::run_tenants::TenantState;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        let row = |external_id: &str, message: &str| TenantRow {
            tenant_id: 1,
            external_id: external_id.into(),
            state: TenantState::Failed,
            items_expected: None,
            items_updated: 0,
            items_skipped: 0,
            items_failed: 1,
            attempts: 1,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            reason_code: Some("=SUM(A1)".into()),
            message: Some(message.into()),
        };
        let csv = tenants_csv(&[row("plain", "a,b"), row("a,b", "say \"hi\"\nthere")]).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "plain,failed,,0,0,1,1,,,,'=SUM(A1),\"a,b\"");
        assert!(lines[2].starts_with("\"a,b\",failed,"), "{csv}");
        assert!(
            csv.ends_with(",'=SUM(A1),\"say \"\"hi\"\"\nthere\"\r\n"),
            "{csv}"
        );
    }
}
