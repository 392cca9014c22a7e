//! Health, readiness and metrics answer on both backends; `/metrics` can be
//! locked with a token or moved to a listener of its own, per router, and
//! its text is Prometheus exposition a scraper can aggregate.

use std::collections::BTreeMap;

use tenantatlas::doors::web::{self, WebConfig};
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::telemetry::MetricsToken;
use tokio::sync::oneshot;

use crate::both_backends;
use crate::support::web::{client, login_as, send, start, start_with};

const TOKEN: &str = "scrape-token-0123456789abcdef";
const LATENCY: &str = "tenantatlas_http_request_duration_seconds";

both_backends!(health_readiness_and_metrics_answer, |t| async move {
    let server = start(&t.app).await;
    let c = client();
    let get = |path: &str| c.get(format!("{}{path}", server.base)).send();

    let healthz = get("/healthz").await.unwrap();
    assert_eq!(healthz.status(), 200);

    let readyz = get("/readyz").await.unwrap();
    assert_eq!(
        readyz.status(),
        200,
        "the database answers, so /readyz is ready"
    );
    assert_eq!(readyz.text().await.unwrap(), "ready");

    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("tenantatlas_"), "metrics: {text}");
});

fn token() -> MetricsToken {
    MetricsToken::parse(TOKEN).unwrap()
}

/// Scrapes `url` with an `Authorization` header (or none): status, the
/// `WWW-Authenticate` header and the body.
async fn scrape(url: &str, authorization: Option<&str>) -> (u16, String, String) {
    let mut request = client().get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let r = send(request).await;
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, r.text().await.unwrap())
}

/// Every way of not holding the token is a 401 that asks for a bearer token.
async fn assert_locked(url: &str) {
    let basic = format!("Basic {TOKEN}");
    let almost = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    for authorization in [
        None,
        Some("Bearer wrong-token-0123456789abcdef"),
        Some(almost.as_str()),
        Some(basic.as_str()),
        Some(TOKEN),
        Some("Bearer"),
    ] {
        let (status, challenge, body) = scrape(url, authorization).await;
        assert_eq!(status, 401, "{url} with {authorization:?}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(!body.contains("tenantatlas_"), "{body}");
    }
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, body) = scrape(url, Some(&bearer)).await;
    assert_eq!(status, 200, "{url} with the token");
    assert!(body.contains("tenantatlas_queue_depth"), "{body}");
}

both_backends!(metrics_need_the_token_when_one_is_set, |t| async move {
    let config = WebConfig {
        metrics_token: Some(token()),
        ..WebConfig::default()
    };
    let locked = start_with(&t.app, config).await;
    assert_locked(&format!("{}/metrics", locked.base)).await;
    // Health stays open to load balancers.
    let (status, _, _) = scrape(&format!("{}/healthz", locked.base), None).await;
    assert_eq!(status, 200);
    // The token belongs to that router: another one in this process (same
    // recorder) answers without, as configured.
    let open = start(&t.app).await;
    let (status, _, body) = scrape(&format!("{}/metrics", open.base), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("tenantatlas_"));
});

/// Serves `web::metrics_router` on a listener of its own (port 0): its base
/// URL and what stops it.
async fn metrics_listener(
    app: &tenantatlas::app::App,
    token: Option<MetricsToken>,
) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let router = web::metrics_router(app.clone(), token);
    tokio::spawn(web::serve_on(listener, router, async move {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

both_backends!(metrics_can_have_a_listener_of_their_own, |t| async move {
    let config = WebConfig {
        metrics_elsewhere: true,
        ..WebConfig::default()
    };
    let console = start_with(&t.app, config).await;
    let (status, _, body) = scrape(&format!("{}/metrics", console.base), None).await;
    assert_eq!(status, 404, "the console does not answer /metrics");
    assert!(body.contains("There is no page at this address."), "{body}");
    let (status, _, _) = scrape(&format!("{}/healthz", console.base), None).await;
    assert_eq!(status, 200);

    let (base, _stop) = metrics_listener(&t.app, None).await;
    let (status, _, body) = scrape(&format!("{base}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(body.contains("tenantatlas_queue_depth"), "{body}");
    for path in ["/system", "/system/login", "/healthz", "/"] {
        let (status, _, _) = scrape(&format!("{base}{path}"), None).await;
        assert_eq!(
            status, 404,
            "the metrics listener serves only /metrics: {path}"
        );
    }

    // Both: its own listener, and the token on it.
    let (base, _stop) = metrics_listener(&t.app, Some(token())).await;
    assert_locked(&format!("{base}/metrics")).await;
});

/// One sample line: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The Prometheus text exposition format, as far as `/metrics` uses it.
#[derive(Debug, Default)]
struct Exposition {
    help: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    fn parse(text: &str) -> Exposition {
        let mut e = Exposition::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect(line);
                let first = e.help.insert(name.into(), help.into());
                assert!(first.is_none(), "one HELP per family: {line}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect(line);
                let first = e.types.insert(name.into(), kind.into());
                assert!(first.is_none(), "one TYPE per family: {line}");
            } else if !line.starts_with('#') {
                e.samples.push(sample(line));
            }
        }
        e
    }

    /// The family a sample belongs to: its name, or a histogram's or
    /// summary's name for its `_bucket`, `_sum` and `_count` lines.
    fn family_of(&self, sample: &str) -> Option<&str> {
        if let Some((name, _)) = self.types.get_key_value(sample) {
            return Some(name);
        }
        ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| sample.strip_suffix(suffix))
            .filter_map(|base| self.types.get_key_value(base))
            .find(|(_, kind)| matches!(kind.as_str(), "histogram" | "summary"))
            .map(|(name, _)| name.as_str())
    }
}

/// `name{label="value",…} value`, with `\"`, `\\` and `\n` escapes in values.
fn sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect(line);
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next().expect(line);
            match c {
                '}' => {
                    rest = &inner[i + 1..];
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                    let mut value = String::new();
                    loop {
                        match chars.next().expect(line).1 {
                            '"' => break,
                            '\\' => match chars.next().expect(line).1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
    }
    let value = rest.split_whitespace().next().expect(line);
    let value = value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
    Sample {
        name,
        labels,
        value,
    }
}

both_backends!(
    every_series_has_help_and_type_and_latency_is_a_histogram,
    |t| async move {
        let app = &t.app;
        // The recorder is installed with the first router of the process.
        let server = start(app).await;
        t.seed(2, 3, 0).await;
        let cli = crate::support::runs::cli();
        let all = ScopeRequest::AllTenants;
        app.runbooks()
            .start(&cli, crate::support::runs::BACKFILL, &all, None)
            .await
            .unwrap();
        t.drain().await;
        app.runbooks()
            .start(&cli, "workspaces.backfill-ids", &all, None)
            .await
            .unwrap();
        let base = &server.base;
        let c = client();
        let _ = login_as(&c, base, "system", "nobody@ops.test", "wrong password!").await;
        for path in ["/system", "/system/no-such-page", "/healthz"] {
            send(c.get(format!("{base}{path}"))).await;
        }

        let (status, _, text) = scrape(&format!("{base}/metrics"), None).await;
        assert_eq!(status, 200);
        let e = Exposition::parse(&text);
        assert!(!e.samples.is_empty(), "{text}");
        for s in &e.samples {
            let family = e
                .family_of(&s.name)
                .unwrap_or_else(|| panic!("{} has a TYPE line (of itself or its family)", s.name));
            let help = e.help.get(family).map(String::as_str).unwrap_or_default();
            assert!(!help.trim().is_empty(), "{family} has HELP text");
            assert!(s.value.is_finite(), "{s:?}");
        }
        for family in e.types.keys() {
            assert!(
                e.help.contains_key(family),
                "{family}: a TYPE without a HELP"
            );
        }
        for (family, kind) in [
            ("tenantatlas_http_requests_total", "counter"),
            ("tenantatlas_login_attempts_total", "counter"),
            ("tenantatlas_runs_started_total", "counter"),
            ("tenantatlas_runs_completed_total", "counter"),
            ("tenantatlas_jobs_claimed_total", "counter"),
            ("tenantatlas_queue_depth", "gauge"),
            (LATENCY, "histogram"),
        ] {
            assert_eq!(
                e.types.get(family).map(String::as_str),
                Some(kind),
                "{family}"
            );
        }
        // Read from the database at scrape time: the completed run, the queued jobs.
        let completed = e
            .samples
            .iter()
            .find(|s| s.name == "tenantatlas_runs_completed_total")
            .expect("completed runs");
        assert_eq!(
            completed.labels.keys().collect::<Vec<_>>(),
            ["outcome"],
            "one label set for the whole deployment"
        );
        assert!(
            e.samples
                .iter()
                .any(|s| s.name == "tenantatlas_queue_depth")
        );

        // The latency of one route: cumulative buckets from 5 ms to 10 s and +Inf,
        // their sum and count; no quantiles.
        let route = |s: &&Sample| s.labels.get("route").map(String::as_str) == Some("/system");
        let of = |suffix: &str| {
            let name = format!("{LATENCY}{suffix}");
            e.samples
                .iter()
                .filter(|s| s.name == name)
                .filter(route)
                .collect::<Vec<_>>()
        };
        let buckets = of("_bucket");
        let bounds: Vec<&str> = buckets.iter().map(|s| s.labels["le"].as_str()).collect();
        for le in ["0.005", "0.1", "1", "10", "+Inf"] {
            assert!(bounds.contains(&le), "bucket le={le} in {bounds:?}");
        }
        assert_eq!(bounds.last(), Some(&"+Inf"), "{bounds:?}");
        let counts: Vec<f64> = buckets.iter().map(|s| s.value).collect();
        assert!(
            counts.windows(2).all(|w| w[0] <= w[1]),
            "cumulative: {counts:?}"
        );
        let (sum, count) = (of("_sum"), of("_count"));
        assert_eq!((sum.len(), count.len()), (1, 1), "one _sum and one _count");
        assert!(count[0].value >= 1.0);
        assert_eq!(counts.last(), Some(&count[0].value), "+Inf counts them all");
        assert!(sum[0].value > 0.0);
        assert!(
            !e.samples.iter().any(|s| s.labels.contains_key("quantile")),
            "histograms, not summaries"
        );
    }
);
