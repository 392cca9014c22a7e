//! Hostile text at every door, on both backends: NUL and other control
//! characters, a right-to-left override, 100 kB strings, a 5,000-character
//! email, bytes that are not UTF-8 and lone surrogates are sent to every text
//! field of every form, query string, JSON body and CLI argument. Each is
//! refused (HTTP 4xx naming the field, CLI exit 2) and writes nothing; none
//! is ever a 500. Emoji are text like any other and are accepted.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use tenantatlas::alerts::Channel;
use tenantatlas::domain::Capability;
use tenantatlas::runbooks::ScopeRequest;

use crate::both_backends;
use crate::support::TestApp;
use crate::support::runs::cli as trusted;
use crate::support::web::*;

use crate::support::runs::BACKFILL as LIFECYCLE;

// What a refusal says to name its field: the text rule's `field: …`, or
// the meaning of a value that is text but not one of the known ones.
const RUNBOOK: &[&str] = &["runbook:", "unknown runbook"];
const SCOPE: &[&str] = &["scope:", "unknown scope"];
const TENANT: &[&str] = &["tenant:", "unknown tenant"];
const STATUS: &[&str] = &["status:", "unknown status"];
const OUTCOME: &[&str] = &["outcome:", "unknown outcome"];
const EVENT: &[&str] = &["event:", "unknown event"];
const URL: &[&str] = &["url:", "is not a url", "webhook url"];

/// The hostile values of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    Nul,
    StartOfHeading,
    Delete,
    AnsiEscape,
    RightToLeftOverride,
    HundredKb,
    LongEmail,
    Emoji,
    InvalidUtf8,
    LoneSurrogate,
}

const VALUES: [Hostile; 10] = [
    Hostile::Nul,
    Hostile::StartOfHeading,
    Hostile::Delete,
    Hostile::AnsiEscape,
    Hostile::RightToLeftOverride,
    Hostile::HundredKb,
    Hostile::LongEmail,
    Hostile::Emoji,
    Hostile::InvalidUtf8,
    Hostile::LoneSurrogate,
];

/// A random-looking address of exactly 5,000 characters.
fn long_email() -> String {
    let mut local = String::new();
    while local.len() < 4_990 {
        local.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    local.truncate(4_990);
    format!("{local}@ex.test")
}

/// Percent-encodes every byte but the unreserved ones (forms, queries, paths).
fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Hostile {
    /// The value where it is text.
    fn text(self) -> Option<String> {
        Some(match self {
            Hostile::Nul => "ops\0team".into(),
            Hostile::StartOfHeading => "\u{1}".into(),
            Hostile::Delete => "ops\u{7f}team".into(),
            Hostile::AnsiEscape => "\u{1b}[31mred\u{1b}[0m".into(),
            Hostile::RightToLeftOverride => "invoice\u{202e}fdp.exe".into(),
            Hostile::HundredKb => "a".repeat(100_000),
            Hostile::LongEmail => long_email(),
            Hostile::Emoji => "On-call 🚨 rotation".into(),
            Hostile::InvalidUtf8 | Hostile::LoneSurrogate => return None,
        })
    }

    /// The bytes as sent where a door takes bytes (a form, argv, stdin):
    /// a lone surrogate can only be its UTF-8-like encoding, which is not UTF-8.
    fn bytes(self) -> Vec<u8> {
        match self {
            Hostile::InvalidUtf8 => vec![b'o', b'p', 0xFF, 0xFE],
            Hostile::LoneSurrogate => vec![b'o', b'p', 0xED, 0xA0, 0x80],
            other => other.text().unwrap_or_default().into_bytes(),
        }
    }

    /// The value as a JSON literal.
    fn json(self) -> Vec<u8> {
        match self {
            Hostile::InvalidUtf8 => [b"\"op".as_slice(), &[0xFF, 0xFE], b"\""].concat(),
            Hostile::LoneSurrogate => br#""op\ud800""#.to_vec(),
            other => serde_json::to_vec(&other.text()).unwrap(),
        }
    }

    /// Not text at all: refused before any field is looked at (400, or
    /// CLI exit 2 from the argument parser).
    fn undecodable(self) -> bool {
        matches!(self, Hostile::InvalidUtf8 | Hostile::LoneSurrogate)
    }
}

/// What a field takes as text (the rule of its kind lets it through).
#[derive(Clone, Copy)]
enum Takes {
    /// Emoji only (names, ids, filters, reasons).
    Emoji,
    /// Emoji and the bidirectional controls: a password is never shown.
    AnyPrintable,
}

impl Takes {
    fn takes(self, value: Hostile) -> bool {
        match self {
            Takes::Emoji => value == Hostile::Emoji,
            Takes::AnyPrintable => {
                matches!(value, Hostile::Emoji | Hostile::RightToLeftOverride)
            }
        }
    }
}

/// Where a web field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Form,
    Query,
    Json,
    /// The `{key}` segment of the path.
    Path,
}

/// One web field: the request it is part of and what a refusal must say.
struct WebField {
    method: &'static str,
    /// With `{key}` where the runbook key goes.
    path: String,
    at: At,
    /// The body's or query's other fields, valid.
    base: Vec<(&'static str, String)>,
    field: &'static str,
    /// A refusal names the field: one of these is in the message.
    names: &'static [&'static str],
    takes: Takes,
    /// An accepted value changes something (303 or 2xx).
    accepted_writes: bool,
    /// The page whose CSRF token a form needs (None: not a signed form).
    token_page: Option<String>,
    /// A refused start shows the runbook page again with its preflight,
    /// which records that it was shown (`runbook.preflight`, without the
    /// refused value); nothing else may be written.
    reshows_preflight: bool,
}

fn field(
    method: &'static str,
    path: &str,
    at: At,
    base: &[(&'static str, &str)],
    field: &'static str,
    names: &'static [&'static str],
) -> WebField {
    WebField {
        method,
        path: path.to_owned(),
        at,
        base: base
            .iter()
            .filter(|(k, _)| *k != field)
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect(),
        field,
        names,
        takes: Takes::Emoji,
        accepted_writes: false,
        token_page: None,
        reshows_preflight: false,
    }
}

impl WebField {
    fn signed(mut self, page: &str) -> WebField {
        self.token_page = Some(page.to_owned());
        self
    }

    fn reshows_preflight(mut self) -> WebField {
        self.reshows_preflight = true;
        self
    }

    fn takes(mut self, takes: Takes) -> WebField {
        self.takes = takes;
        self
    }

    fn writes_when_accepted(mut self) -> WebField {
        self.accepted_writes = true;
        self
    }

    fn describe(&self) -> String {
        format!(
            "{} {} {:?} `{}`",
            self.method, self.path, self.at, self.field
        )
    }

    /// The request with `value` in this field.
    async fn request(
        &self,
        c: &reqwest::Client,
        base_url: &str,
        value: Hostile,
    ) -> reqwest::RequestBuilder {
        let key = match self.at {
            At::Path => percent(&value.bytes()),
            _ => LIFECYCLE.to_owned(),
        };
        let mut url = format!("{base_url}{}", self.path.replace("{key}", &key));
        let mut pairs: Vec<(String, String)> = self
            .base
            .iter()
            .map(|(k, v)| (k.to_string(), percent(v.as_bytes())))
            .collect();
        if let Some(page) = &self.token_page {
            let tok = token(c, &format!("{base_url}{page}")).await;
            pairs.push(("_token".into(), tok));
        }
        if matches!(self.at, At::Form | At::Query) {
            pairs.push((self.field.into(), percent(&value.bytes())));
        }
        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let query_string = self.method == "GET" || self.at == At::Query;
        if query_string && !encoded.is_empty() {
            url = format!("{url}?{encoded}");
        }
        let request = match self.method {
            "GET" => c.get(url),
            _ => c.post(url),
        };
        match self.at {
            At::Json => {
                let mut members: Vec<Vec<u8>> = self
                    .base
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{}", serde_json::to_string(v).unwrap()).into())
                    .collect();
                members.push([format!("\"{}\":", self.field).into_bytes(), value.json()].concat());
                let body = [b"{".to_vec(), members.join(&b","[..]), b"}".to_vec()].concat();
                request
                    .header("content-type", "application/json")
                    .body(body)
            }
            At::Path if self.method != "GET" && self.token_page.is_none() => {
                request.header("content-type", "application/json").body(
                    serde_json::to_vec(&serde_json::Map::from_iter(
                        self.base
                            .iter()
                            .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str()))),
                    ))
                    .unwrap(),
                )
            }
            _ if !query_string => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded),
            _ => request,
        }
    }
}

/// The tables a refused value must leave as they were (the audit log is
/// counted apart: see [`WebField::reshows_preflight`]).
const TABLES: [&str; 9] = [
    "operation_runs",
    "jobs",
    "alert_destinations",
    "alert_rules",
    "alert_rule_destinations",
    "platform_users",
    "users",
    "sessions",
    "login_attempts",
];

const PREFLIGHT_AUDITS: &str = "audit_events (runbook.preflight)";

async fn rows(t: &TestApp) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        counts.push((table, t.count(&sql).await));
    }
    let audits = "SELECT count(*) FROM audit_events WHERE action <> 'runbook.preflight'";
    counts.push(("audit_events", t.count(audits).await));
    let preflights = "SELECT count(*) FROM audit_events WHERE action = 'runbook.preflight'";
    counts.push((PREFLIGHT_AUDITS, t.count(preflights).await));
    counts
}

/// What the text rules say when they refuse `field`.
fn rule_refusal(message: &str, names: &[&str]) -> bool {
    names.iter().any(|n| {
        ["must not contain", "at most"]
            .iter()
            .any(|p| message.contains(&format!("{n}: {p}")))
    })
}

/// Sends every hostile value to each field; returns the failures found and
/// the number of cases sent.
async fn web_matrix(
    t: &TestApp,
    c: &reqwest::Client,
    base: &str,
    fields: &[WebField],
) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut cases = 0;
    for f in fields {
        for value in VALUES {
            cases += 1;
            if value == Hostile::HundredKb && matches!(f.at, At::Query | At::Path) {
                // No client can build a URI this long (the limit is 64 kB):
                // sent as raw bytes, the server refuses it before routing.
                let status = raw_long_uri(base, &f.path, f.field).await;
                if !(400..500).contains(&status) {
                    failures.push(format!("{} with a 100 kB URI: {status}", f.describe()));
                }
                continue;
            }
            let request = f.request(c, base, value).await;
            let before = rows(t).await;
            let r = send(request).await;
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default().to_lowercase();
            let mut after = rows(t).await;
            let mut before = before;
            if f.reshows_preflight {
                before.retain(|(table, _)| *table != PREFLIGHT_AUDITS);
                after.retain(|(table, _)| *table != PREFLIGHT_AUDITS);
            }
            let what = format!("{} with {value:?}: {status} {body:.200}", f.describe());
            if status >= 500 {
                failures.push(format!("{what}: a server error"));
                continue;
            }
            if f.takes.takes(value) {
                if rule_refusal(&body, f.names) {
                    failures.push(format!("{what}: refused as text"));
                }
                if f.accepted_writes && !(200..400).contains(&status) {
                    failures.push(format!("{what}: not accepted"));
                }
                continue;
            }
            let in_body = matches!(f.at, At::Form | At::Json);
            let expected: &[u16] = match value {
                Hostile::HundredKb if in_body => &[413],
                Hostile::LoneSurrogate if f.at == At::Json => &[400, 422],
                v if v.undecodable() => &[400],
                _ => &[422],
            };
            if !expected.contains(&status) {
                failures.push(format!("{what}: expected {expected:?}"));
            }
            let must_name = status == 422
                || (f.at == At::Json && status == 400 && value != Hostile::InvalidUtf8);
            if must_name && !f.names.iter().any(|n| body.contains(n)) {
                failures.push(format!("{what}: the message names none of {:?}", f.names));
            }
            if before != after {
                failures.push(format!("{what}: wrote {before:?} → {after:?}"));
            }
        }
    }
    (failures, cases)
}

/// Sends a request whose URI carries a 100 kB value, as raw bytes; returns
/// the status answered.
async fn raw_long_uri(base: &str, path: &str, field: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let long = "a".repeat(100_000);
    let target = match path.contains("{key}") {
        true if field == "key" => path.replace("{key}", &long),
        _ => format!("{}?{field}={long}", path.replace("{key}", LIFECYCLE)),
    };
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn report(failures: Vec<String>, cases: usize) {
    eprintln!("hostile input: {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A completed run with one failed tenant, to retry.
async fn failed_run(t: &TestApp) -> i64 {
    t.seed(2, 2, 1).await;
    let run = t
        .app
        .runbooks()
        .start(&trusted(), LIFECYCLE, &ScopeRequest::AllTenants, None)
        .await
        .unwrap()
        .run;
    t.drain().await;
    run.id
}

/// An email destination named "Ops"; its id.
async fn ops_destination(t: &TestApp) -> i64 {
    let channel = Channel::email(&["ops@example.com".into()]).unwrap();
    let alerts = t.app.alert_service();
    let added = alerts.add_destination(&trusted(), "Ops", channel).await;
    added.unwrap().id
}

both_backends!(
    hostile_sign_in_fields_are_refused_before_the_throttle,
    |t| async move {
        let app = &t.app;
        operator(app, "op@ops.test", &Capability::ALL).await;
        customer(app, "customer@acme.test").await;
        let server = start(app).await;
        let base = &server.base;
        let c = client();
        let mut fields = Vec::new();
        for (plane, email) in [("system", "op@ops.test"), ("admin", "customer@acme.test")] {
            let path = format!("/{plane}/login");
            let form = [("email", email), ("password", PASSWORD)];
            fields.push(field("POST", &path, At::Form, &form, "email", &["email:"]).signed(&path));
            fields.push(
                field("POST", &path, At::Form, &form, "password", &["password:"])
                    .takes(Takes::AnyPrintable)
                    .signed(&path),
            );
        }
        let (failures, cases) = web_matrix(t, &c, base, &fields).await;
        report(failures, cases);
        // The refused attempts were not counted: the right password still signs in.
        let r = login_as(&client(), base, "system", "op@ops.test", PASSWORD).await;
        assert_eq!(r.status(), 303);
    }
);

both_backends!(hostile_runbook_and_run_fields_are_refused, |t| async move {
    let app = &t.app;
    let run = failed_run(t).await;
    let (_server, base, c) = console_as(app, "op@ops.test", &Capability::ALL).await;
    let start = "/system/runbooks/{key}/start";
    let page = format!("/system/runbooks/{LIFECYCLE}");
    let retry = format!("/system/runs/{run}/retry-failed");
    let api_start = "/system/api/runbooks/{key}/start";
    let api_retry = format!("/system/api/runs/{run}/retry-failed");
    let preflight = "/system/api/runbooks/{key}/preflight";
    let (runbook, runs, audit) = ("/system/runbooks/{key}", "/system/runs", "/system/audit");
    let api_runs = "/system/api/runs";
    let run_tenants = format!("/system/runs/{run}/tenants");
    let run_csv = format!("/system/runs/{run}/tenants.csv");
    let api_tenants = format!("/system/api/runs/{run}/tenants");
    let api_limits = format!("/system/api/runs/{run}/limits");
    let api_retry_states = format!("/system/api/runs/{run}/retry");
    let all = [("scope", "all"), ("reason", "hostile input check")];
    let one = [("scope", "tenant"), ("tenant", "platform"), ("reason", "r")];
    let filters = [("runbook", ""), ("status", ""), ("outcome", "")];
    #[rustfmt::skip]
    let fields = vec![
        // The start form.
        field("POST", start, At::Path, &all, "key", RUNBOOK).signed(&page).reshows_preflight(),
        field("POST", start, At::Form, &all, "scope", SCOPE).signed(&page).reshows_preflight(),
        field("POST", start, At::Form, &one, "tenant", TENANT).signed(&page).reshows_preflight(),
        field("POST", start, At::Form, &all, "reason", &["reason:"])
            .signed(&page).reshows_preflight().writes_when_accepted(),
        // Retry-failed.
        field("POST", &retry, At::Form, &[], "reason", &["reason:"]).signed(&retry).writes_when_accepted(),
        // Preflight on the runbook page.
        field("GET", runbook, At::Query, &[("scope", "all")], "scope", SCOPE),
        field("GET", runbook, At::Query, &[("scope", "tenant")], "tenant", TENANT),
        // Run filters.
        field("GET", runs, At::Query, &filters, "runbook", &["runbook:"]),
        field("GET", runs, At::Query, &filters, "status", STATUS),
        field("GET", runs, At::Query, &filters, "outcome", OUTCOME),
        field("GET", audit, At::Query, &[], "action", &["action:"]),
        field("GET", audit, At::Query, &[], "actor", &["actor:"]),
        field("GET", audit, At::Query, &[], "subject", &["subject:"]),
        field("GET", audit, At::Query, &[], "from", &["from:"]),
        field("GET", runs, At::Query, &filters, "initiator", &["initiator:"]),
        field("GET", runs, At::Query, &filters, "tenant", TENANT),
        field("GET", runs, At::Query, &filters, "reason", &["reason:"]),
        field("GET", runs, At::Query, &filters, "from", &["from:"]),
        field("GET", &run_tenants, At::Query, &[], "q", &["q:", "external id contains:"]),
        field("GET", &run_tenants, At::Query, &[], "state", &["state:"]),
        field("GET", &run_tenants, At::Query, &[], "sort", &["sort:"]),
        field("GET", &run_csv, At::Query, &[], "q", &["q:", "search:"]),
        field("GET", &api_tenants, At::Query, &[], "q", &["q:", "search:"]),
        field("GET", &api_tenants, At::Query, &[], "state", &["state:"]),
        field("GET", "/system/tenants/options", At::Query, &[], "tenant", TENANT),
        field("POST", &api_limits, At::Json, &[], "max_concurrency", &["max_concurrency"]),
        field("POST", &api_retry_states, At::Json, &[], "reason", &["reason:"]).writes_when_accepted(),
        // The JSON API.
        field("POST", api_start, At::Path, &all, "key", RUNBOOK),
        field("POST", api_start, At::Json, &all, "scope", SCOPE),
        field("POST", api_start, At::Json, &one, "tenant", TENANT),
        field("POST", api_start, At::Json, &all, "reason", &["reason:"]).writes_when_accepted(),
        field("POST", &api_retry, At::Json, &[], "reason", &["reason:"]).writes_when_accepted(),
        field("GET", preflight, At::Path, &[("scope", "all")], "key", RUNBOOK),
        field("GET", preflight, At::Query, &[("scope", "all")], "scope", SCOPE),
        field("GET", preflight, At::Query, &[("scope", "tenant")], "tenant", TENANT),
        field("GET", api_runs, At::Query, &filters, "runbook", &["runbook:"]),
        field("GET", api_runs, At::Query, &filters, "status", STATUS),
        field("GET", api_runs, At::Query, &filters, "outcome", OUTCOME),
    ];
    let (mut failures, mut cases) = web_matrix(t, &c, &base, &fields).await;

    // The customer plane's findings filters.
    customer(app, "customer@acme.test").await;
    let customer = signed_in(&base, "admin", "customer@acme.test").await;
    let finding_filters = [("status", ""), ("severity", ""), ("tenant", "")];
    let fields: Vec<WebField> = ["status", "severity", "tenant"]
        .into_iter()
        .map(|f| {
            let names: &'static [&'static str] = match f {
                "status" => STATUS,
                "severity" => &["severity:", "unknown severity"],
                _ => TENANT,
            };
            field(
                "GET",
                "/admin/findings",
                At::Query,
                &finding_filters,
                f,
                names,
            )
        })
        .collect();
    let (more, n) = web_matrix(t, &customer, &base, &fields).await;
    failures.extend(more);
    cases += n;
    report(failures, cases);
});

both_backends!(hostile_alert_fields_are_refused, |t| async move {
    let app = &t.app;
    let dest = ops_destination(t).await.to_string();
    let (_server, base, c) = console_as(app, "op@ops.test", &Capability::ALL).await;
    let page = "/system/alerts";
    let destinations = "/system/alerts/destinations";
    let rules = "/system/alerts/rules";
    let teams = [
        ("kind", "teams"),
        ("name", "Ops channel"),
        ("url", "https://hooks.example.test/webhook"),
    ];
    let email = [
        ("kind", "email"),
        ("name", "On call"),
        ("recipients", "oncall@example.com"),
    ];
    let rule = [
        ("name", "Failed runs"),
        ("event", "operation_run.failed"),
        ("min_severity", "high"),
        ("cooldown_seconds", "60"),
        ("quiet_hours", "22:00-07:00"),
        ("timezone", "Europe/Berlin"),
        ("destination", dest.as_str()),
    ];
    #[rustfmt::skip]
    let fields = vec![
        field("POST", destinations, At::Form, &email, "name", &["name:"]).signed(page).writes_when_accepted(),
        field("POST", destinations, At::Form, &teams, "url", URL).signed(page),
        field("POST", destinations, At::Form, &email, "recipients", &["recipients:"]).signed(page),
        field("POST", destinations, At::Form, &email, "kind", &["kind:", "type:"]).signed(page),
        field("POST", rules, At::Form, &rule, "name", &["name:"]).signed(page).writes_when_accepted(),
        field("POST", rules, At::Form, &rule, "event", EVENT).signed(page),
        field("POST", rules, At::Form, &rule, "min_severity", &["min_severity:", "unknown severity"]).signed(page),
        field("POST", rules, At::Form, &rule, "cooldown_seconds", &["cooldown_seconds:", "the cooldown"]).signed(page),
        field("POST", rules, At::Form, &rule, "quiet_hours", &["quiet_hours:", "quiet hours"]).signed(page),
        field("POST", rules, At::Form, &rule, "timezone", &["timezone:", "time zone"]).signed(page),
        field("POST", rules, At::Form, &rule, "destination", &["destination:", "alert destination"]).signed(page),
    ];
    let (failures, cases) = web_matrix(t, &c, &base, &fields).await;
    report(failures, cases);
    // The accepted emoji names were stored as typed.
    let names: Vec<String> = app
        .alert_service()
        .destinations(&trusted())
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(
        names.contains(&"On-call 🚨 rotation".to_owned()),
        "{names:?}"
    );
});

// ---- The CLI ----

/// One CLI argument: the command line with `{}` where the value goes.
struct CliField {
    line: &'static str,
    /// A refusal names the field: one of these is on stderr.
    names: &'static [&'static str],
    takes: Takes,
    accepted_writes: bool,
    /// The value goes on standard input (the password), not into argv.
    stdin: bool,
}

fn arg(line: &'static str, names: &'static [&'static str]) -> CliField {
    CliField {
        line,
        names,
        takes: Takes::Emoji,
        accepted_writes: false,
        stdin: false,
    }
}

impl CliField {
    fn writes_when_accepted(mut self) -> CliField {
        self.accepted_writes = true;
        self
    }
}

struct CliOutput {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn cli(t: &TestApp, args: Vec<OsString>, stdin: Vec<u8>) -> CliOutput {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tenantatlas"))
        .args(&args)
        .current_dir(dir.path())
        .env("DATABASE_URL", &t.db.url)
        .env("TENANTATLAS_WEBHOOK_ALLOWED_HOSTS", "hooks.example.test")
        .env_remove("TENANTATLAS_DEPLOY_RUNBOOKS")
        .env_remove("TENANTATLAS_RELEASE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tenantatlas");
    if let Some(mut input) = child.stdin.take() {
        // A command that refuses its arguments first never reads it.
        let _ = input.write_all(&stdin).await;
    }
    let out = child.wait_with_output().await.expect("tenantatlas output");
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs every hostile value through each command line; returns failures and
/// the number of cases run.
async fn cli_matrix(t: &TestApp, fields: &[CliField]) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (i, f) in fields.iter().enumerate() {
        for value in VALUES {
            // argv is a list of C strings: a NUL cannot be passed at all.
            if value == Hostile::Nul && !f.stdin {
                continue;
            }
            cases += 1;
            let line = f.line.replace("{n}", &format!("{i}-{cases}"));
            let mut args = Vec::new();
            for word in crate::support::argv(&line) {
                if word == "{}" {
                    args.push(OsString::from_vec(value.bytes()));
                } else {
                    args.push(OsString::from(word));
                }
            }
            let stdin = if f.stdin {
                value.bytes()
            } else {
                format!("{PASSWORD}\n").into_bytes()
            };
            let before = rows(t).await;
            let out = cli(t, args, stdin).await;
            let after = rows(t).await;
            let stderr = out.stderr.to_lowercase();
            let what = format!(
                "`{}` with {value:?}: exit {} {stderr:.200}",
                f.line, out.code
            );
            if f.takes.takes(value) {
                if rule_refusal(&stderr, f.names) {
                    failures.push(format!("{what}: refused as text"));
                }
                if !(out.code == 0 || (out.code == 2 && !f.accepted_writes)) {
                    failures.push(format!("{what}: not accepted"));
                }
                continue;
            }
            if out.code != 2 {
                failures.push(format!("{what}: expected exit 2"));
            }
            let named = f.names.iter().any(|n| stderr.contains(n));
            let undecodable = value.undecodable() && stderr.contains("utf-8");
            if !named && !undecodable {
                failures.push(format!("{what}: stderr names none of {:?}", f.names));
            }
            if !out.stdout.is_empty() {
                failures.push(format!("{what}: printed {:.100}", out.stdout));
            }
            if before != after {
                failures.push(format!("{what}: wrote {before:?} → {after:?}"));
            }
        }
    }
    (failures, cases)
}

both_backends!(hostile_account_arguments_exit_2, |t| async move {
    let fields = [
        arg(
            "platform-user create --email {} --name N --password-stdin --all-capabilities",
            &["email:"],
        ),
        arg(
            "platform-user create --email p{n}@ops.test --name {} --password-stdin --all-capabilities",
            &["name:"],
        )
        .writes_when_accepted(),
        CliField {
            stdin: true,
            takes: Takes::AnyPrintable,
            ..arg(
                "platform-user create --email s{n}@ops.test --name N --password-stdin --all-capabilities",
                &["password:", "password on standard input"],
            )
            .writes_when_accepted()
        },
        arg(
            "user create --email {} --name N --workspace default --password-stdin",
            &["email:"],
        ),
        arg(
            "user create --email u{n}@acme.test --name {} --workspace default --password-stdin",
            &["name:"],
        )
        .writes_when_accepted(),
        arg(
            "user create --email w{n}@acme.test --name N --workspace {} --password-stdin",
            &["workspace:"],
        ),
    ];
    let (failures, cases) = cli_matrix(t, &fields).await;
    report(failures, cases);
});

both_backends!(hostile_alert_arguments_exit_2, |t| async move {
    let dest = ops_destination(t).await;
    assert_eq!(dest, 1, "the rule lines below name destination 1");
    let fields = [
        arg(
            "alerts destination add --type teams --name {} --url https://hooks.example.test/x",
            &["name:"],
        )
        .writes_when_accepted(),
        arg("alerts destination add --type teams --name N --url {}", URL),
        arg(
            "alerts destination add --type email --name N --to {}",
            &["recipients:"],
        ),
        arg(
            "alerts rule add --name {} --event operation_run.failed --destination 1",
            &["name:"],
        )
        .writes_when_accepted(),
        arg("alerts rule add --name R --event {} --destination 1", EVENT),
        arg(
            "alerts rule add --name R --event operation_run.failed --destination 1 --min-severity {}",
            &["min_severity:", "unknown severity"],
        ),
        arg(
            "alerts rule add --name R --event operation_run.failed --destination 1 --cooldown-seconds {}",
            &["--cooldown-seconds"],
        ),
        arg(
            "alerts rule add --name R --event operation_run.failed --destination 1 --quiet-hours {} --timezone UTC",
            &["quiet_hours:", "quiet hours"],
        ),
        arg(
            "alerts rule add --name R --event operation_run.failed --destination 1 --quiet-hours 22:00-07:00 --timezone {}",
            &["timezone:", "time zone"],
        ),
    ];
    let (failures, cases) = cli_matrix(t, &fields).await;
    report(failures, cases);
});

both_backends!(hostile_runbook_arguments_exit_2, |t| async move {
    let run = failed_run(t).await;
    assert_eq!(run, 1, "the retry line below names run 1");
    let fields = [
        arg("runbooks run {} --all-tenants", RUNBOOK),
        arg(
            "runbooks run findings.backfill-lifecycle --tenant {}",
            TENANT,
        ),
        arg(
            "runbooks run findings.backfill-lifecycle --all-tenants --reason {}",
            &["reason:"],
        )
        .writes_when_accepted(),
        arg("runbooks preflight {} --all-tenants", RUNBOOK),
        arg(
            "runbooks preflight findings.backfill-lifecycle --tenant {}",
            TENANT,
        ),
        arg(
            "findings:backfill-lifecycle --tenant {} --preflight",
            TENANT,
        ),
        arg(
            "findings:backfill-lifecycle --all-tenants --reason {}",
            &["reason:"],
        )
        .writes_when_accepted(),
        arg("runs retry-failed 1 --reason {}", &["reason:"]).writes_when_accepted(),
        arg("runs list --runbook {}", &["runbook:"]),
        arg("runs list --status {}", STATUS),
        arg("runs list --outcome {}", OUTCOME),
        arg("deploy:hook --release {}", &["release:"]).writes_when_accepted(),
    ];
    let (failures, cases) = cli_matrix(t, &fields).await;
    report(failures, cases);
});
