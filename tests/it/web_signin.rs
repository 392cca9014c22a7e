//! Sign-in under hostile traffic, over HTTP on both backends: the limit per
//! client address, the hashing slots, what anonymous traffic leaves in the
//! database, and where `next` may send a visitor.

use std::sync::Arc;
use std::time::Duration;

use tenantatlas::accounts::{HashingSlots, SignInLimits};
use tenantatlas::app::App;
use tenantatlas::domain::Capability;
use tenantatlas::doors::web::WebConfig;

use crate::both_backends;
use crate::support::web::*;

const ALL: [Capability; 4] = Capability::ALL;

/// A server that believes `X-Forwarded-For` from loopback, so a test can
/// speak from other addresses.
async fn behind_proxy(app: &App) -> Server {
    let config = WebConfig {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..WebConfig::default()
    };
    start_with(app, config).await
}

fn retry_after(r: &reqwest::Response) -> i64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

both_backends!(the_limit_per_address_holds_across_emails, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &ALL).await;
    // Two processes on one database share the limit.
    let other_db = tenantatlas::storage::Db::connect(&t.db.url, 4)
        .await
        .unwrap();
    let other_app = App::new(
        other_db.clone(),
        t.clock.clone(),
        crate::support::test_settings(),
    );
    let a = behind_proxy(app).await;
    let b = behind_proxy(&other_app).await;
    let c = client();
    for i in 0..30 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let email = format!("sprayed-{i}@ops.test");
        let r = sign_in_from(&c, base, "system", None, &email, "wrong password!").await;
        assert_eq!(r.status(), 422, "attempt {}", i + 1);
    }
    // The 31st from this address, a new email and the right password of
    // a real account alike: 429 before any password is checked.
    for (base, email, password) in [
        (&a.base, "sprayed-30@ops.test", "wrong password!"),
        (&b.base, "op@ops.test", PASSWORD),
        (&a.base, "sprayed-31@ops.test", "wrong password!"),
    ] {
        let r = sign_in_from(&c, base, "system", None, email, password).await;
        assert_eq!(r.status(), 429, "{email}");
        assert!((1..=60).contains(&retry_after(&r)));
        let body = r.text().await.unwrap();
        assert!(body.contains("Try again in"), "{body}");
    }
    let count = async |action: &str| {
        let sql = format!("SELECT count(*) FROM audit_events WHERE action = '{action}'");
        t.count(&sql).await
    };
    assert_eq!(count("login.failed").await, 30);
    assert_eq!(count("login.succeeded").await, 0);
    // Refusals are answered each time but audited once a window.
    assert_eq!(count("login.throttled").await, 1);

    // Another address, and the same address on the other plane, are not held back.
    let r = sign_in_from(
        &c,
        &a.base,
        "system",
        Some("203.0.113.7"),
        "op@ops.test",
        PASSWORD,
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = sign_in_from(
        &client(),
        &b.base,
        "admin",
        None,
        "x@acme.test",
        "wrong password!",
    )
    .await;
    assert_eq!(r.status(), 422);

    // A minute later the address may try again.
    t.clock.advance(chrono::Duration::seconds(61));
    let r = sign_in_from(&client(), &b.base, "system", None, "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    drop(b);
    other_db.close().await;
});

both_backends!(
    sign_in_is_503_when_no_hashing_slot_comes_free,
    |t| async move {
        operator(&t.app, "op@ops.test", &ALL).await;
        let slots = HashingSlots::new(1, Duration::from_millis(100));
        let limits = SignInLimits {
            hashing: slots.clone(),
            ..SignInLimits::default()
        };
        let app = t.app.clone().with_sign_in_limits(limits);
        let server = start(&app).await;
        let c = client();

        let held = slots.take().await.expect("the only slot");
        let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
        assert_eq!(r.status(), 503);
        assert!(retry_after(&r) >= 1);
        let body = r.text().await.unwrap();
        assert!(body.contains("try again in a few seconds"), "{body}");
        assert_eq!(
            t.count("SELECT count(*) FROM audit_events WHERE action = 'login.busy'")
                .await,
            1
        );
        // Not signed in.
        assert_eq!(
            send(c.get(format!("{}/system", server.base)))
                .await
                .status(),
            303
        );

        drop(held);
        let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/system");
    }
);

/// Sends `count` requests made by `request(i)` with `concurrency` at a
/// time; returns how many answered each status.
async fn flood<F>(count: usize, concurrency: usize, request: F) -> Vec<(u16, usize)>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..concurrency {
        let request = request.clone();
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for i in (lane..count).step_by(concurrency) {
                let r = request(i).send().await.expect("request");
                statuses.push(r.status().as_u16());
            }
            statuses
        });
    }
    let mut tally = std::collections::BTreeMap::new();
    while let Some(statuses) = tasks.join_next().await {
        for s in statuses.expect("flood task") {
            *tally.entry(s).or_insert(0) += 1;
        }
    }
    tally.into_iter().collect()
}

both_backends!(
    anonymous_traffic_leaves_a_bounded_number_of_rows,
    |t| async move {
        // However loaded the machine, the sprayed sign-ins that reach the
        // password wait for a slot rather than being answered 503.
        let patient = SignInLimits {
            hashing: HashingSlots::per_core(Duration::from_secs(120)),
            ..SignInLimits::default()
        };
        let app = &t.app.clone().with_sign_in_limits(patient);
        operator(app, "op@ops.test", &ALL).await;
        let server = start(app).await;
        let base = server.base.clone();
        let rows = async |table: &str| t.count(&format!("SELECT count(*) FROM {table}")).await;

        // Cookieless visitors of both sign-in pages: no session rows.
        let cookieless = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let b = base.clone();
        let pages = flood(5_000, 16, move |i| {
            let plane = if i % 2 == 0 { "system" } else { "admin" };
            cookieless.get(format!("{b}/{plane}/login"))
        })
        .await;
        assert_eq!(pages, vec![(200, 5_000)]);
        assert_eq!(rows("sessions").await, 0);
        assert_eq!(rows("login_attempts").await, 0);

        // An email of 60,000 characters is bad input: refused before the
        // throttle counts it or the audit log records it.
        let c = client();
        let long = format!("{}@ops.test", "x".repeat(60_000));
        let r = login_as(&c, &base, "system", &long, "wrong password!").await;
        assert_eq!(r.status(), 422);
        assert_eq!(rows("audit_events").await, 0);
        assert_eq!(rows("login_attempts").await, 0);
        // A counted attempt: its throttle key is a digest, not the email.
        let r = login_as(&c, &base, "system", "nobody@ops.test", "wrong password!").await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            t.count("SELECT CAST(max(length(throttle_key)) AS BIGINT) FROM login_attempts")
                .await,
            64
        );
        assert_eq!(
            t.count("SELECT count(*) FROM login_attempts WHERE throttle_key LIKE '%nobody%'")
                .await,
            0
        );

        // A spray of distinct emails on both planes with a valid form token.
        let mut tokens = Vec::new();
        for plane in ["system", "admin"] {
            tokens.push(token(&c, &format!("{base}/{plane}/login")).await);
        }
        let b = base.clone();
        let sprayed = flood(5_000, 16, move |i| {
            let (plane, tok) = if i % 2 == 0 {
                ("system", &tokens[0])
            } else {
                ("admin", &tokens[1])
            };
            let fields = [
                ("_token", tok.clone()),
                ("email", format!("spray-{i}@example.test")),
                ("password", "not the password".to_owned()),
            ];
            c.post(format!("{b}/{plane}/login")).form(&fields)
        })
        .await;
        // 30 a plane reach the password (one went to the long email), the
        // rest are refused before it.
        assert_eq!(sprayed, vec![(422, 59), (429, 4_941)], "{sprayed:?}");
        assert_eq!(rows("sessions").await, 0);
        let attempts = rows("login_attempts").await;
        // Per plane: 30 for the address, one per email that got through, one
        // refusal marker.
        assert!(attempts <= 2 * (30 + 30 + 1), "{attempts} login attempts");
        // Failed attempts are audited each, refusals once a window per plane.
        assert_eq!(rows("audit_events").await, 60 + 2);

        // The sweep, once the window has passed, leaves nothing.
        let accounts = app.accounts();
        let swept = accounts.sweep().await.unwrap();
        assert_eq!(swept.login_attempts, 0, "nothing has expired yet");
        t.clock.advance(chrono::Duration::seconds(61));
        let swept = accounts.sweep().await.unwrap();
        assert_eq!(swept.login_attempts, attempts as u64);
        assert_eq!(rows("login_attempts").await, 0);
        assert_eq!(rows("sessions").await, 0);
    }
);

/// `next` values that must never be followed: a newline (the old 500),
/// other control and non-ASCII characters, other sites, other planes, dot
/// segments, and the sign-in page itself.
const HOSTILE_NEXT: [&str; 22] = [
    "/system\nx",
    "/system/runs\r\nSet-Cookie: x=1",
    "/system\tx",
    "/system/\u{7f}",
    "/system/caf\u{e9}",
    "/system/\u{2028}x",
    "/system/ x",
    "//evil.example/system",
    "/system//evil.example",
    "/system\\evil",
    "/system/\\/evil.example",
    "https://evil.example/system",
    "javascript:alert(1)",
    "/systemx",
    "/system.evil",
    "/admin",
    "/system/../admin",
    "/system/%2e%2e/admin",
    "/system/%2E./admin",
    "/system/./runs",
    "/system/login",
    "/system/login?next=/system",
];

/// A hostile value for the plane: `/system` written as the plane's root.
fn on_plane(value: &str, plane: &str) -> String {
    if plane == "system" {
        return value.to_owned();
    }
    value
        .replace("/admin", "/other")
        .replace("/system", "/admin")
        .replace("/other", "/system")
}

/// `url?next=…`, the value percent-encoded.
fn with_next(url: &str, next: &str) -> String {
    let query = serde_urlencoded::to_string([("next", next)]).unwrap();
    format!("{url}?{query}")
}

both_backends!(next_follows_only_paths_of_the_plane, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &ALL).await;
    customer(app, "user@acme.test").await;
    let server = start(app).await;
    let base = &server.base;
    for (plane, email) in [("system", "op@ops.test"), ("admin", "user@acme.test")] {
        let root = format!("/{plane}");
        let mut cases: Vec<(String, String)> = HOSTILE_NEXT
            .iter()
            .map(|v| (on_plane(v, plane), root.clone()))
            .collect();
        let fine = format!("/{plane}/runs?page=2&status=completed");
        cases.push((fine.clone(), fine));
        cases.push((root.clone(), root.clone()));

        // Signed in: the sign-in page sends them on.
        let signed = signed_in(base, plane, email).await;
        for (next, expected) in &cases {
            let url = with_next(&format!("{base}/{plane}/login"), next);
            let r = send(signed.get(&url)).await;
            assert_eq!(r.status(), 303, "{plane} signed in, next {next:?}");
            assert_eq!(&location(&r), expected, "{plane} signed in, next {next:?}");
        }

        // Not signed in: the page carries only a followable next, and the
        // form's next leads to the same place after sign-in.
        for (next, expected) in &cases {
            let c = client();
            let url = format!("{base}/{plane}/login");
            let r = send(c.get(with_next(&url, next))).await;
            assert_eq!(r.status(), 200, "{plane} page, next {next:?}");
            let html = r.text().await.unwrap();
            if expected == &root && next != &root {
                assert!(!html.contains("name=\"next\""), "{plane} carries {next:?}");
            }
            let fields = [
                ("_token", token_of(&html)),
                ("email", email.to_owned()),
                ("password", PASSWORD.to_owned()),
                ("next", next.clone()),
            ];
            let r = send(c.post(&url).form(&fields)).await;
            assert_eq!(r.status(), 303, "{plane} sign-in, next {next:?}");
            assert_eq!(&location(&r), expected, "{plane} sign-in, next {next:?}");
            // Each case is one attempt of this address and email.
            t.clock.advance(chrono::Duration::seconds(61));
        }
    }
});
