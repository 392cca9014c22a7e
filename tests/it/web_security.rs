//! SR-001 … SR-004 over HTTP against a real server, on both backends.

use tenantatlas::accounts::Plane;
use tenantatlas::domain::Capability;
use tenantatlas::doors::web::routes::{self, Access};
use tenantatlas::doors::web::{ADMIN_COOKIE, SYSTEM_COOKIE, WebConfig};
use tenantatlas::runbooks::ScopeRequest;

use crate::both_backends;
use crate::support::web::*;

const ALL: [Capability; 4] = Capability::ALL;
/// A runbook key, the fields of a signed form, the status and the message expected.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, Option<&'a str>);

use crate::support::runs::BACKFILL as LIFECYCLE;
const VIEWER: [Capability; 2] = [Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW];
/// Every path is tried with each of these (a GET route answers HEAD too).
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Customer,
    NoCapabilities,
    Viewer,
    Admin,
}

/// What the guard must answer.
#[derive(Debug, PartialEq)]
enum Expect {
    LoginRedirect,
    Unauthorized,
    NotFound,
    Forbidden,
    /// The right plane, a method the path does not have.
    MethodNotAllowed,
    /// The guard lets the request through to the handler.
    Through,
}

/// What the guard must answer `who` sending `method` to a path whose routes
/// are `declared`.
fn expect(declared: &[routes::RouteInfo], method: &str, who: Who) -> Expect {
    let route = declared
        .iter()
        .find(|r| r.method == method || (method == "HEAD" && r.method == "GET"));
    let path = &declared[0];
    if path.access == Access::Public {
        return match route {
            Some(_) => Expect::Through,
            None => Expect::MethodNotAllowed,
        };
    }
    let api = path.path.starts_with("/system/api/");
    let signed_in_here = match path.plane {
        Plane::System => matches!(who, Who::NoCapabilities | Who::Viewer | Who::Admin),
        Plane::Admin => who == Who::Customer,
    };
    // Whatever the method (SR-001, SR-002).
    if !signed_in_here {
        return match who {
            Who::Anonymous if api => Expect::Unauthorized,
            Who::Anonymous => Expect::LoginRedirect,
            // A session of the other plane: exactly the unknown-path answer.
            _ => Expect::NotFound,
        };
    }
    let Some(route) = route else {
        return Expect::MethodNotAllowed;
    };
    match route.access {
        Access::Capability(c) => {
            let has = match who {
                Who::Admin => true,
                Who::Viewer => VIEWER.contains(&c),
                _ => false,
            };
            if has {
                Expect::Through
            } else {
                Expect::Forbidden
            }
        }
        _ => Expect::Through,
    }
}

/// A response whole, but for its date.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    async fn of(request: reqwest::RequestBuilder) -> Answer {
        let r = send(request).await;
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The paths of the route table in order, each with its routes.
fn paths_of(table: &[routes::RouteInfo]) -> Vec<(&'static str, Vec<routes::RouteInfo>)> {
    let mut paths: Vec<(&'static str, Vec<routes::RouteInfo>)> = Vec::new();
    for route in table {
        match paths.iter_mut().find(|(p, _)| *p == route.path) {
            Some((_, routes)) => routes.push(*route),
            None => paths.push((route.path, vec![*route])),
        }
    }
    paths
}

/// A path of the same kind that does not exist.
fn missing_like(path: &str) -> &'static str {
    if path.starts_with("/system/api/") {
        "/system/api/no-such"
    } else if path.starts_with("/system") {
        "/system/no-such-page"
    } else {
        "/admin/no-such-page"
    }
}

both_backends!(every_route_is_guarded_for_every_identity, |t| async move {
    let app = &t.app;
    let server = start(app).await;
    let base = &server.base;
    operator(app, "admin@ops.test", &ALL).await;
    operator(app, "viewer@ops.test", &VIEWER).await;
    operator(app, "nobody@ops.test", &[]).await;
    customer(app, "customer@acme.test").await;
    let run = app
        .runbooks()
        .start(
            &crate::support::runs::cli(),
            crate::support::runs::BACKFILL,
            &ScopeRequest::AllTenants,
            None,
        )
        .await
        .unwrap()
        .run;

    let mut clients = vec![(Who::Anonymous, client())];
    for (who, plane, email) in [
        (Who::Customer, "admin", "customer@acme.test"),
        (Who::NoCapabilities, "system", "nobody@ops.test"),
        (Who::Viewer, "system", "viewer@ops.test"),
        (Who::Admin, "system", "admin@ops.test"),
    ] {
        clients.push((who, signed_in(base, plane, email).await));
    }

    let table = routes::table();
    assert!(table.len() >= 30, "the route table lists every route");
    for (pattern, declared) in paths_of(&table) {
        let path = pattern
            .replace("{id}", &run.id.to_string())
            .replace("{key}", crate::support::runs::BACKFILL);
        for method in METHODS {
            let verb = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            for (who, c) in &clients {
                // No CSRF token and no body: a request that passes the guard changes nothing.
                let a = Answer::of(c.request(verb.clone(), format!("{base}{path}"))).await;
                let (status, loc) = (a.status, a.header("location"));
                let what = format!("{method} {path} as {who:?}: {status} {loc} {:.120}", a.body);
                match expect(&declared, method, *who) {
                    Expect::LoginRedirect => {
                        assert_eq!(status, 303, "{what}");
                        let login = if declared[0].plane == Plane::System {
                            "/system/login"
                        } else {
                            "/admin/login"
                        };
                        assert!(loc.starts_with(login), "{what}");
                        assert_eq!(a.header("allow"), "", "{what}");
                    }
                    Expect::Unauthorized => {
                        assert_eq!(status, 401, "{what}");
                        assert!(loc.is_empty(), "the API never redirects: {what}");
                        assert_eq!(a.header("allow"), "", "{what}");
                    }
                    Expect::NotFound => {
                        // The same method on a path that does not exist, by the same visitor.
                        let missing = format!("{base}{}", missing_like(&path));
                        let unknown = Answer::of(c.request(verb.clone(), missing)).await;
                        assert_eq!(unknown.status, 404, "{what}");
                        assert_eq!(
                            a, unknown,
                            "wrong plane answers exactly like an unknown path: {what}"
                        );
                    }
                    Expect::Forbidden => {
                        assert_eq!(status, 403, "{what}");
                        if method != "HEAD" {
                            assert!(a.body.contains("capability"), "{what}");
                        }
                    }
                    Expect::MethodNotAllowed => {
                        assert_eq!(status, 405, "{what}");
                        for route in &declared {
                            assert!(a.header("allow").contains(route.method), "{what}");
                        }
                        let json = a.header("content-type") == "application/json";
                        assert_eq!(json, path.starts_with("/system/api/"), "{what}");
                    }
                    Expect::Through => {
                        assert!(!a.body.contains("lacks the capability"), "{what}");
                        assert!(![401, 405].contains(&status), "{what}");
                        assert!(!(status == 303 && loc.contains("/login")), "{what}");
                        assert!(
                            status != 404 || !a.body.contains("There is no page"),
                            "{what}"
                        );
                        assert!(status < 500, "{what}");
                    }
                }
            }
        }
    }
    // Nothing those requests sent changed the run.
    let after = app.runs().get(run.id).await.unwrap();
    assert!(after.is_active());
    assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 1);
});

both_backends!(the_eleventh_login_attempt_is_throttled, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &ALL).await;
    let server = start(app).await;
    let c = client();
    for i in 0..10 {
        let r = login_as(&c, &server.base, "system", "op@ops.test", "wrong password!").await;
        assert_eq!(r.status(), 422, "attempt {}", i + 1);
        let body = r.text().await.unwrap();
        assert!(body.contains("Email or password is not correct."));
    }
    // The 11th, even with the right password: 429, Retry-After, and when.
    let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let retry: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body = r.text().await.unwrap();
    assert!(body.contains("Try again in"), "{body}");
    assert!(set_cookies_of_login_is_not_signed_in(&c, &server.base).await);

    // The normalized email is the same key; another email is not throttled.
    let r = login_as(&c, &server.base, "system", "  OP@Ops.TEST ", PASSWORD).await;
    assert_eq!(r.status(), 429);
    let r = login_as(
        &c,
        &server.base,
        "system",
        "other@ops.test",
        "wrong password!",
    )
    .await;
    assert_eq!(r.status(), 422);

    assert!(
        t.count("SELECT count(*) FROM audit_events WHERE action = 'login.throttled'")
            .await
            >= 2
    );
    assert_eq!(
        t.count("SELECT count(*) FROM audit_events WHERE action = 'login.failed'")
            .await,
        11
    );

    // A minute later the key may try again.
    t.clock.advance(chrono::Duration::seconds(61));
    let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
});

async fn set_cookies_of_login_is_not_signed_in(c: &reqwest::Client, base: &str) -> bool {
    send(c.get(format!("{base}/system"))).await.status() == 303
}

/// The `Set-Cookie` of a response whose value starts with `prefix`.
fn cookie(r: &reqwest::Response, prefix: &str, what: &str) -> String {
    let mut cookies = set_cookies(r).into_iter();
    cookies.find(|s| s.starts_with(prefix)).expect(what)
}

both_backends!(
    the_limit_holds_across_two_server_processes,
    |t| async move {
        let app = &t.app;
        operator(app, "op@ops.test", &ALL).await;
        // A second process: its own pool on the same database.
        let other_db = tenantatlas::storage::Db::connect(&t.db.url, 4)
            .await
            .unwrap();
        let other_app = tenantatlas::app::App::new(
            other_db.clone(),
            t.clock.clone(),
            crate::support::test_settings(),
        );
        let a = start(app).await;
        let b = start(&other_app).await;
        let c = client();
        for i in 0..10 {
            let base = if i % 2 == 0 { &a.base } else { &b.base };
            let r = login_as(&c, base, "system", "op@ops.test", "wrong password!").await;
            assert_eq!(r.status(), 422);
        }
        for base in [&a.base, &b.base] {
            let r = login_as(&c, base, "system", "op@ops.test", PASSWORD).await;
            assert_eq!(r.status(), 429);
        }
        drop(b);
        other_db.close().await;
    }
);

both_backends!(cookies_have_their_names_and_flags, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &ALL).await;
    customer(app, "user@acme.test").await;
    let server = start(app).await;
    let c = client();
    // The sign-in form needs no session: its token comes in its own cookie.
    let pre = send(c.get(format!("{}/system/login", server.base))).await;
    let form_cookie = cookie(&pre, "tenantatlas_csrf=", "the form token's cookie");
    assert!(form_cookie.contains("HttpOnly"), "{form_cookie}");
    assert!(form_cookie.contains("SameSite=Lax"), "{form_cookie}");
    assert!(!form_cookie.contains("Secure"), "{form_cookie}");
    assert!(
        !set_cookies(&pre)
            .iter()
            .any(|s| s.starts_with(SYSTEM_COOKIE))
    );
    // A session id planted before sign-in is not the one signed in.
    let planted = "tenantatlas_system_session=bm90LWEtcmVhbC1zZXNzaW9uLWlk";
    let url: reqwest::Url = server.base.parse().unwrap();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(planted, &url);
    let c = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/system");
    let cookie_of = |r, name| cookie(r, &format!("{name}="), &format!("{name} cookie"));
    let system = cookie_of(&r, SYSTEM_COOKIE);
    assert!(system.contains("HttpOnly"), "{system}");
    assert!(system.contains("SameSite=Lax"), "{system}");
    assert!(!system.contains("Secure"), "{system}");
    assert_ne!(Some(planted), system.split(';').next());

    let r = login_as(&c, &server.base, "admin", "user@acme.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let admin = cookie_of(&r, ADMIN_COOKIE);
    assert!(
        admin.contains("HttpOnly") && admin.contains("SameSite=Lax"),
        "{admin}"
    );

    // Served over HTTPS: Secure.
    let https = start_with(
        app,
        WebConfig {
            public_url: Some("https://ops.example.test".into()),
            ..WebConfig::default()
        },
    )
    .await;
    let r = send(client().get(format!("{}/system/login", https.base))).await;
    let secure = cookie(&r, "tenantatlas_csrf=", "cookie");
    assert!(secure.contains("Secure"), "{secure}");
    let c = client();
    let r = login_as(&c, &https.base, "system", "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let secure = cookie(&r, SYSTEM_COOKIE, "cookie");
    assert!(secure.contains("Secure"), "{secure}");
    let hsts = |r: &reqwest::Response| r.headers().get("strict-transport-security").cloned();
    assert_eq!(
        hsts(&r).as_ref().and_then(|v| v.to_str().ok()),
        Some("max-age=31536000"),
        "HSTS over HTTPS"
    );
    let plain = send(client().get(format!("{}/system/login", server.base))).await;
    assert_eq!(hsts(&plain), None, "no HSTS over plain http");
});

both_backends!(
    forged_csrf_and_foreign_origins_are_refused,
    |t| async move {
        let app = &t.app;
        operator(app, "op@ops.test", &ALL).await;
        t.seed(2, 3, 0).await;
        let server = start(app).await;
        let base = &server.base;
        // Sign-in with a forged token.
        let c = client();
        let _ = token(&c, &format!("{base}/system/login")).await;
        let forged = [
            ("_token", "forged"),
            ("email", "op@ops.test"),
            ("password", PASSWORD),
        ];
        assert_status(c.post(format!("{base}/system/login")).form(&forged), 403).await;
        let c = signed_in(base, "system", "op@ops.test").await;
        let start_url = format!("{base}/system/runbooks/findings.backfill-lifecycle/start");
        let form = |tok: &str| {
            vec![
                ("_token", tok.to_owned()),
                ("scope", "all".into()),
                ("reason", "test".into()),
            ]
        };
        let zeros = "0".repeat(64);
        assert_status(c.post(&start_url).form(&form(&zeros)), 403).await;
        let unsigned = [("scope", "all"), ("reason", "test")];
        assert_status(c.post(&start_url).form(&unsigned), 403).await;
        // The right token from a foreign origin.
        let tok = token(&c, &format!("{base}/system")).await;
        for (header, value) in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let foreign = c.post(&start_url).header(header, value);
            assert_status(foreign.form(&form(&tok)), 403).await;
        }
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
        // And from our own origin it works.
        let own = c.post(&start_url).header("origin", base.as_str());
        assert_status(own.form(&form(&tok)), 303).await;
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 1);
    }
);

both_backends!(logging_out_of_one_plane_leaves_the_other, |t| async move {
    let app = &t.app;
    operator(app, "op@ops.test", &ALL).await;
    customer(app, "user@acme.test").await;
    let server = start(app).await;
    let base = &server.base;
    let c = client();
    for (plane, email) in [("system", "op@ops.test"), ("admin", "user@acme.test")] {
        let r = login_as(&c, base, plane, email, PASSWORD).await;
        assert_eq!(r.status(), 303, "{plane}");
    }
    let (system, findings) = (format!("{base}/system"), format!("{base}/admin/findings"));
    assert_status(c.get(&system), 200).await;
    assert_status(c.get(&findings), 200).await;

    let tok = token(&c, &findings).await;
    let signed = [("_token", tok.as_str())];
    assert_status(c.post(format!("{base}/admin/logout")).form(&signed), 303).await;
    // Signed out of /admin; the /system session is of the other plane, so 404.
    assert_status(c.get(&findings), 404).await;
    assert_status(c.get(&system), 200).await;

    let tok = token(&c, &system).await;
    let signed = [("_token", tok.as_str())];
    assert_status(c.post(format!("{base}/system/logout")).form(&signed), 303).await;
    let r = assert_status(c.get(&system), 303).await;
    assert!(location(&r).starts_with("/system/login"));
    assert_status(c.get(&findings), 303).await;
});

both_backends!(
    bad_input_is_a_clear_4xx_and_writes_nothing,
    |t| async move {
        let app = &t.app;
        t.seed(2, 3, 0).await;
        let (_server, base, c) = console_as(app, "op@ops.test", &ALL).await;
        let tok = token(&c, &format!("{base}/system")).await;
        let start_url = |key: &str| format!("{base}/system/runbooks/{key}/start");
        let audit_before = t
            .count("SELECT count(*) FROM audit_events WHERE action <> 'runbook.preflight'")
            .await;

        let raw_form = |body: Vec<u8>| {
            c.post(start_url(LIFECYCLE))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        };

        // Oversized body.
        let big = format!("_token={tok}&scope=all&reason={}", "x".repeat(100 * 1024));
        let r = assert_status(raw_form(big.into_bytes()), 413).await;
        assert!(r.text().await.unwrap().contains("larger than"));
        // Bad UTF-8, raw and percent-encoded.
        for body in [
            [
                format!("_token={tok}&scope=all&reason=").into_bytes(),
                vec![0xff, 0xfe],
            ]
            .concat(),
            format!("_token={tok}&scope=all&reason=%FF%FE").into_bytes(),
        ] {
            let r = assert_status(raw_form(body), 400).await;
            assert!(r.text().await.unwrap().contains("UTF-8"));
        }
        // A signed form that names what does not exist or is not allowed.
        let cases: [Case; 4] = [
            (
                "no.such-runbook",
                &[("scope", "all"), ("reason", "r")],
                404,
                Some("unknown runbook"),
            ),
            (
                LIFECYCLE,
                &[("scope", "tenant"), ("tenant", "nope"), ("reason", "r")],
                404,
                Some("unknown tenant"),
            ),
            (
                LIFECYCLE,
                &[("scope", "all"), ("reason", "   ")],
                422,
                Some("reason"),
            ),
            (LIFECYCLE, &[("scope", "some"), ("reason", "r")], 422, None),
        ];
        for (key, fields, status, message) in cases {
            let mut fields = fields.to_vec();
            fields.push(("_token", tok.as_str()));
            let r = assert_status(c.post(start_url(key)).form(&fields), status).await;
            if let Some(message) = message {
                assert!(r.text().await.unwrap().contains(message), "{fields:?}");
            }
        }
        // Tampered run ids.
        for path in [
            "/system/runs/999999",
            "/system/runs/abc",
            "/system/runs/-1",
            "/system/api/runs/999999",
            "/system/api/runs/1e3",
        ] {
            let r = send(c.get(format!("{base}{path}"))).await;
            assert_eq!(r.status(), 404, "{path}");
        }
        let signed = [("_token", tok.as_str())];
        for path in [
            "/system/runs/999999/cancel",
            "/system/runs/abc/retry-failed",
        ] {
            assert_status(c.post(format!("{base}{path}")).form(&signed), 404).await;
        }
        // The JSON API: malformed JSON, wrong content type.
        let api = format!("{base}/system/api/runbooks/{LIFECYCLE}/start");
        let malformed = c.post(&api).header("content-type", "application/json");
        assert_status(malformed.body("{not json"), 400).await;
        assert_status(c.post(&api).body("scope=all"), 415).await;
        let no_reason = serde_json::json!({"scope": "all", "reason": ""});
        let r = assert_status(c.post(&api).json(&no_reason), 422).await;
        assert!(
            r.json::<serde_json::Value>().await.unwrap()["error"]
                .as_str()
                .unwrap()
                .contains("reason")
        );

        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
        assert_eq!(t.count("SELECT count(*) FROM jobs").await, 0);
        assert_eq!(
            t.count("SELECT count(*) FROM audit_events WHERE action <> 'runbook.preflight'")
                .await,
            audit_before
        );
    }
);
