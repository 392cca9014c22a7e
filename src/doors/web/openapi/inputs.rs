//! What the API's inputs accept, as the description states it: the
//! request bodies (objects with no other fields: `additionalProperties:
//! false`, as [`JsonBody`](super::super::kit::JsonBody) enforces), the
//! values picked from a list (enums), and the patterns of the text each
//! field takes. A pattern says exactly what the service accepts — text
//! kinds are trimmed of white space (Unicode's, as `str::trim`), refuse
//! control and bidirectional characters and are bounded after trimming — so
//! a client, and schemathesis in CI, can tell a request the API takes from
//! one it refuses without asking it.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{Object, OneOfBuilder, Schema};

/// White space as `str::trim` removes it (Unicode `White_Space`).
const SPACE: &str =
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Control characters (`char::is_control`) and the bidirectional
/// overrides and isolates, which no kind of text but a password holds.
const REFUSED: &str = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069";
/// White space that is not a control character (those are in [`REFUSED`]).
const PRINTED_SPACE: &str = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// A single line of at most `max` characters after trimming; `required`:
/// not blank.
fn line_pattern(max: usize, required: bool) -> String {
    let inner = format!("[^{REFUSED}]");
    let edge = format!("[^{REFUSED}{PRINTED_SPACE}]");
    let text = format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2);
    match required {
        true => format!("^{SPACE}*{text}{SPACE}*$"),
        false => format!("^{SPACE}*(?:{text})?{SPACE}*$"),
    }
}

/// A reason: several lines (`\n` or `\r\n` between them), at most 2,000
/// characters after trimming, not blank.
fn reason_pattern() -> String {
    let inner = format!(r"(?:[^{REFUSED}]|\r?\n)");
    let edge = format!("[^{REFUSED}{PRINTED_SPACE}]");
    format!("^{SPACE}*{edge}(?:{inner}{{0,1998}}{edge})?{SPACE}*$")
}

/// A limit as `Limit::parse` reads it: blank (none), a count of at most
/// nine digits and at least `min`, or (`percent`) a percentage from `min`
/// to 100, white space around either.
fn limit_pattern(min: i64, percent: bool) -> String {
    let count = match min {
        0 => "[0-9]{1,9}".to_owned(),
        _ => (0..=8)
            .map(|zeros| format!("0{{{zeros}}}[1-9][0-9]{{0,{}}}", 8 - zeros))
            .collect::<Vec<_>>()
            .join("|"),
    };
    let mut percents = vec!["0{0,8}[1-9]", "0{0,7}[1-9][0-9]", "0{0,6}100"];
    if min == 0 {
        percents.push("0{1,9}");
    }
    let value = match percent {
        true => format!("{count}|(?:{}){SPACE}*%", percents.join("|")),
        false => count,
    };
    format!("^{SPACE}*(?:{value})?{SPACE}*$")
}

/// A body type's `PartialSchema` and `ToSchema` from its schema function
/// here (and the component's name when it is not the type's).
macro_rules! schema_of {
    ($ty:ty = $schema:path $(, named $name:literal)?) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema()
            }
        }

        impl utoipa::ToSchema for $ty {
            $(fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            })?
        }
    };
}
pub(crate) use schema_of;

fn object(v: Value) -> Object {
    serde_json::from_value(v).unwrap_or_default()
}

/// A text field: a string with `pattern`, or null where it may be left out.
fn text(description: &str, pattern: String, nullable: bool) -> Value {
    let kind = match nullable {
        true => json!(["string", "null"]),
        false => json!("string"),
    };
    json!({"type": kind, "pattern": pattern, "description": description})
}

/// The run's cap: a count of tenants (at least 1) or a percentage of them.
fn max_concurrency() -> Value {
    let about = "Tenants at once: a count (`10`) or a percentage of the run's tenants (`5%`); blank or null for no cap.";
    text(about, limit_pattern(1, true), true)
}

/// The error budget: a count of failed tenants (0 stops at the first) or a
/// percentage.
fn max_errors() -> Value {
    let about = "Failed tenants that stop the run: a count (`0` stops at the first) or a percentage (`10%`); blank or null for no budget.";
    text(about, limit_pattern(0, true), true)
}

/// Tenants finished before a percentage budget applies.
fn min_finished() -> Value {
    let about = "Tenants that must have finished before a percentage error budget applies: a count; blank or null for none.";
    text(about, limit_pattern(0, false), true)
}

/// Why: the runbook's reason rule (required on a start, optional on a retry).
fn reason(about: &str, nullable: bool) -> Value {
    let about = format!(
        "{about} Several lines at most, 2,000 characters after trimming; not blank, no control characters."
    );
    text(&about, reason_pattern(), nullable)
}

/// A tenant's external id as typed: a line of at most 200 characters.
fn tenant(about: &str) -> Value {
    text(about, line_pattern(200, true), false)
}

/// A body of exactly these `properties`, `required` of them present.
fn body(about: &str, properties: Value, required: &[&str]) -> Object {
    object(json!({
        "type": "object",
        "description": about,
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

/// A start's body: all tenants, or one tenant named by `tenant` — a tenant
/// beside `all` is a contradiction the API refuses (422), so the two
/// shapes are apart.
pub fn start_body() -> RefOr<Schema> {
    let limits = |mut p: Value| {
        p["reason"] = reason("Why the run is started.", false);
        p["max_concurrency"] = max_concurrency();
        p["max_errors"] = max_errors();
        p["min_finished"] = min_finished();
        p
    };
    let all = limits(json!({
        "scope": {"type": "string", "enum": ["all"], "description": "Every tenant."},
        "tenant": {"type": "null", "description": "None with `all`."},
    }));
    let one = limits(json!({
        "scope": {"type": "string", "enum": ["tenant"], "description": "The one tenant named by `tenant`."},
        "tenant": tenant("The tenant's external id."),
    }));
    let schema = OneOfBuilder::new()
        .description(Some("What starts a run: its scope, why, and its limits."))
        .item(body("A run over every tenant.", all, &["scope", "reason"]))
        .item(body(
            "A run over one tenant.",
            one,
            &["scope", "tenant", "reason"],
        ));
    RefOr::T(Schema::OneOf(schema.build()))
}

/// New limits of a going run.
pub fn limits_body() -> RefOr<Schema> {
    let properties = json!({
        "max_concurrency": max_concurrency(),
        "max_errors": max_errors(),
        "min_finished": min_finished(),
    });
    let about = "A run's new cap and error budget; a field left out or blank removes that limit.";
    RefOr::T(Schema::Object(body(about, properties, &[])))
}

/// A retry by state.
pub fn retry_body() -> RefOr<Schema> {
    let state = "(?:failed|not_started|cancelled)";
    let gap = format!("(?:{SPACE}|,)*");
    let list = format!("^(?:{SPACE}*|{gap}{state}(?:{SPACE}*,{gap}{state})*{gap})$");
    let states = json!({
        "description": "The states whose tenants are retried, a list or a comma list; left out, null or empty: all three.",
        "anyOf": [
            {"type": "array", "items": {"type": "string", "enum": ["failed", "not_started", "cancelled"]}},
            {"type": "string", "pattern": list},
            {"type": "null"},
        ],
    });
    let properties = json!({
        "states": states,
        "reason": reason("Why (default: which tenants of which run are retried).", true),
        "max_concurrency": max_concurrency(),
        "max_errors": max_errors(),
        "min_finished": min_finished(),
    });
    let about = "What a retry by state takes; a limit left out (or null) keeps the run's, an empty one removes it.";
    RefOr::T(Schema::Object(body(about, properties, &[])))
}

/// A retry of the failed tenants.
pub fn retry_failed_body() -> RefOr<Schema> {
    let properties = json!({
        "reason": reason("Why (default: which tenants of which run are retried).", true),
    });
    let about = "What retries a run's failed tenants.";
    RefOr::T(Schema::Object(body(about, properties, &[])))
}

/// The body of a control that takes nothing but itself: `{}`.
pub fn empty_body() -> RefOr<Schema> {
    let about = "`{}`: this control takes no fields.";
    RefOr::T(Schema::Object(body(about, json!({}), &[])))
}

/// A query parameter: its name, whether it must be given, what it means
/// and what it accepts. (Query types list theirs by hand: utoipa's
/// `schema_with` on a derived parameter drops its description and
/// `required`.)
pub fn query(name: &str, required: bool, about: &str, schema: Object) -> Parameter {
    let required = match required {
        true => utoipa::openapi::Required::True,
        false => utoipa::openapi::Required::False,
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(required)
        .description(Some(about))
        .schema(Some(schema))
        .build()
}

/// A query's scope: `all` or `tenant`.
pub fn scope() -> Object {
    object(json!({"type": "string", "enum": ["all", "tenant"]}))
}

/// A query's tenant: an external id.
pub fn tenant_param() -> Object {
    object(json!({"type": "string", "pattern": line_pattern(200, true)}))
}

/// A list filter's text (blank: any).
pub fn filter() -> Object {
    object(json!({"type": "string", "pattern": line_pattern(200, false)}))
}

/// A value picked from `values`; blank means any.
fn one_of(values: &[&str]) -> Object {
    let mut all = vec![""];
    all.extend_from_slice(values);
    object(json!({"type": "string", "enum": all}))
}

/// A run's status filter.
pub fn status() -> Object {
    one_of(&["queued", "running", "paused", "completed"])
}

/// A run's outcome filter.
pub fn outcome() -> Object {
    one_of(&[
        "pending",
        "succeeded",
        "partially_succeeded",
        "failed",
        "cancelled",
    ])
}

/// A tenant's state filter.
pub fn state() -> Object {
    one_of(&[
        "queued",
        "running",
        "succeeded",
        "failed",
        "not_started",
        "cancelled",
    ])
}

/// The per-tenant table's sort: a column, `-` first for descending.
pub fn sort() -> Object {
    let columns = [
        "external_id",
        "state",
        "duration",
        "items_updated",
        "items_failed",
        "attempts",
        "started_at",
    ];
    let mut sorts: Vec<String> = Vec::new();
    for c in columns {
        sorts.extend([
            c.to_owned(),
            format!("-{c}"),
            format!("{c}:asc"),
            format!("{c}:desc"),
        ]);
    }
    let mut all = vec![String::new()];
    all.extend(sorts);
    object(json!({"type": "string", "enum": all}))
}

/// A whole number from 1 as `str::parse::<i64>` reads it after trimming
/// (a `+` and leading zeros allowed), at most `max` of `max_digits`: the
/// one-off alternatives below `max` and `max` itself.
fn number(below_max: &str, max: &str) -> String {
    format!(r"^{SPACE}*(?:\+?0*(?:{below_max}|{max}))?{SPACE}*$")
}

/// A page number from 1 to 1,000,000 (blank: the first; past the last
/// page, the last).
pub fn page() -> Object {
    object(json!({
        "type": "string",
        "pattern": number("[1-9][0-9]{0,5}", "1000000"),
        "description": "A page from 1 to 1000000 (blank: the first); past the last page, the last.",
    }))
}

/// Tenants a page: 1 to 500.
pub fn per_page() -> Object {
    object(json!({
        "type": "string",
        "pattern": number("[1-9][0-9]?|[1-4][0-9]{2}", "500"),
        "description": "Tenants a page, 1 to 500 (blank: 50).",
    }))
}
