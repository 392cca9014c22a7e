//! SR-001 … SR-004 over HTTP against a real server, on both backends.

use tenantatlas::accounts::Plane;
use tenantatlas::domain::Capability;
use tenantatlas::doors::web::routes::{self, Access};
use tenantatlas::doors::web::{ADMIN_COOKIE, SYSTEM_COOKIE, WebConfig};
use tenantatlas::runs::Initiator;
use tenantatlas::service::{Actor, ScopeRequest};

use crate::both_backends;
use crate::web_support::*;

const ALL: [Capability; 4] = Capability::ALL;
const VIEWER: [Capability; 2] = [Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Customer,
    NoCapabilities,
    Viewer,
    Admin,
}

/// What the guard must answer `who` on a route; None: the guard lets it through.
#[derive(Debug, PartialEq)]
enum Expect {
    LoginRedirect,
    Unauthorized,
    NotFound,
    Forbidden,
    Through,
}

fn expect(route: &routes::RouteInfo, who: Who) -> Expect {
    if route.access == Access::Public {
        return Expect::Through;
    }
    let api = route.path.starts_with("/system/api/");
    let signed_in_here = match route.plane {
        Plane::System => matches!(who, Who::NoCapabilities | Who::Viewer | Who::Admin),
        Plane::Admin => who == Who::Customer,
    };
    if !signed_in_here {
        return match who {
            Who::Anonymous if api => Expect::Unauthorized,
            Who::Anonymous => Expect::LoginRedirect,
            // A session of the other plane: exactly the unknown-path answer (SR-002).
            _ => Expect::NotFound,
        };
    }
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
            &Actor::trusted(Initiator::Cli { os_user: None }),
            "findings.backfill-lifecycle",
            &ScopeRequest::AllTenants,
            None,
        )
        .await
        .unwrap()
        .run;

    let clients = [
        (Who::Anonymous, client()),
        (
            Who::Customer,
            signed_in(base, "admin", "customer@acme.test").await,
        ),
        (
            Who::NoCapabilities,
            signed_in(base, "system", "nobody@ops.test").await,
        ),
        (
            Who::Viewer,
            signed_in(base, "system", "viewer@ops.test").await,
        ),
        (
            Who::Admin,
            signed_in(base, "system", "admin@ops.test").await,
        ),
    ];
    // The answer for a path that does not exist, per kind of path.
    let unknown_page = client()
        .get(format!("{base}/system/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_page.status(), 404);
    let unknown_page = unknown_page.text().await.unwrap();
    let unknown_api = client()
        .get(format!("{base}/system/api/no-such"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let table = routes::table();
    assert!(table.len() >= 30, "the route table lists every route");
    for route in &table {
        let path = route
            .path
            .replace("{id}", &run.id.to_string())
            .replace("{key}", "findings.backfill-lifecycle");
        for (who, c) in &clients {
            // No CSRF token and no JSON body: a request that passes the guard changes nothing.
            let r = match route.method {
                "GET" => c.get(format!("{base}{path}")).send().await.unwrap(),
                _ => c.post(format!("{base}{path}")).send().await.unwrap(),
            };
            let status = r.status().as_u16();
            let loc = location(&r);
            let body = r.text().await.unwrap();
            let what = format!(
                "{} {} as {who:?}: {status} {loc} {body:.120}",
                route.method, path
            );
            match expect(route, *who) {
                Expect::LoginRedirect => {
                    assert_eq!(status, 303, "{what}");
                    let login = if route.plane == Plane::System {
                        "/system/login"
                    } else {
                        "/admin/login"
                    };
                    assert!(loc.starts_with(login), "{what}");
                }
                Expect::Unauthorized => {
                    assert_eq!(status, 401, "{what}");
                    assert!(loc.is_empty(), "the API never redirects: {what}");
                }
                Expect::NotFound => {
                    assert_eq!(status, 404, "{what}");
                    let same = if path.starts_with("/system/api/") {
                        &unknown_api
                    } else {
                        &unknown_page
                    };
                    assert_eq!(
                        &body, same,
                        "wrong plane answers exactly like an unknown path: {what}"
                    );
                }
                Expect::Forbidden => {
                    assert_eq!(status, 403, "{what}");
                    assert!(body.contains("capability"), "{what}");
                }
                Expect::Through => {
                    assert!(!body.contains("lacks the capability"), "{what}");
                    assert!(![401].contains(&status), "{what}");
                    assert!(!(status == 303 && loc.contains("/login")), "{what}");
                    assert!(status != 404 || body != unknown_page, "{what}");
                    assert!(status < 500, "{what}");
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
    c.get(format!("{base}/system"))
        .send()
        .await
        .unwrap()
        .status()
        == 303
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
    let pre = c
        .get(format!("{}/system/login", server.base))
        .send()
        .await
        .unwrap();
    let before = set_cookies(&pre)
        .into_iter()
        .find(|s| s.starts_with(SYSTEM_COOKIE))
        .expect("a session for the form");
    let r = login_as(&c, &server.base, "system", "op@ops.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/system");
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|s| s.starts_with(&format!("{SYSTEM_COOKIE}=")))
        .expect("system cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The session id changes at sign-in.
    assert_ne!(before.split(';').next(), cookie.split(';').next());

    let r = login_as(&c, &server.base, "admin", "user@acme.test", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|s| s.starts_with(&format!("{ADMIN_COOKIE}=")))
        .expect("admin cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
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
    let r = client()
        .get(format!("{}/system/login", https.base))
        .send()
        .await
        .unwrap();
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|s| s.starts_with(SYSTEM_COOKIE))
        .expect("cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
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
        let r = c
            .post(format!("{base}/system/login"))
            .form(&[
                ("_token", "forged"),
                ("email", "op@ops.test"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let c = signed_in(base, "system", "op@ops.test").await;
        let start_url = format!("{base}/system/runbooks/findings.backfill-lifecycle/start");
        let form = |tok: &str| {
            vec![
                ("_token", tok.to_owned()),
                ("scope", "all".into()),
                ("reason", "test".into()),
            ]
        };
        let r = c
            .post(&start_url)
            .form(&form("0".repeat(64).as_str()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = c
            .post(&start_url)
            .form(&[("scope", "all"), ("reason", "test")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // The right token from a foreign origin.
        let tok = token(&c, &format!("{base}/system")).await;
        let r = c
            .post(&start_url)
            .header("origin", "https://evil.example")
            .form(&form(&tok))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let r = c
            .post(&start_url)
            .header("sec-fetch-site", "cross-site")
            .form(&form(&tok))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(t.count("SELECT count(*) FROM operation_runs").await, 0);
        // And from our own origin it works.
        let r = c
            .post(&start_url)
            .header("origin", base.as_str())
            .form(&form(&tok))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
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
    assert_eq!(
        login_as(&c, base, "system", "op@ops.test", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(
        login_as(&c, base, "admin", "user@acme.test", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(
        c.get(format!("{base}/system"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{base}/admin/findings"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let tok = token(&c, &format!("{base}/admin/findings")).await;
    let r = c
        .post(format!("{base}/admin/logout"))
        .form(&[("_token", tok.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .get(format!("{base}/admin/findings"))
        .send()
        .await
        .unwrap();
    // Signed out of /admin; the /system session is of the other plane, so 404.
    assert_eq!(r.status(), 404);
    assert_eq!(
        c.get(format!("{base}/system"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let tok = token(&c, &format!("{base}/system")).await;
    let r = c
        .post(format!("{base}/system/logout"))
        .form(&[("_token", tok.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(format!("{base}/system")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/system/login"));
    let r = c
        .get(format!("{base}/admin/findings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
});

both_backends!(
    bad_input_is_a_clear_4xx_and_writes_nothing,
    |t| async move {
        let app = &t.app;
        operator(app, "op@ops.test", &ALL).await;
        t.seed(2, 3, 0).await;
        let server = start(app).await;
        let base = &server.base;
        let c = signed_in(base, "system", "op@ops.test").await;
        let tok = token(&c, &format!("{base}/system")).await;
        let start_url = |key: &str| format!("{base}/system/runbooks/{key}/start");
        let audit_before = t
            .count("SELECT count(*) FROM audit_events WHERE action <> 'runbook.preflight'")
            .await;

        // Oversized body.
        let big = format!("_token={tok}&scope=all&reason={}", "x".repeat(100 * 1024));
        let r = c
            .post(start_url("findings.backfill-lifecycle"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413);
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
            let r = c
                .post(start_url("findings.backfill-lifecycle"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400);
            assert!(r.text().await.unwrap().contains("UTF-8"));
        }
        let post = |url: String, fields: Vec<(&'static str, String)>| {
            let c = c.clone();
            let mut fields = fields;
            fields.push(("_token", tok.clone()));
            async move { c.post(url).form(&fields).send().await.unwrap() }
        };
        let r = post(
            start_url("no.such-runbook"),
            vec![("scope", "all".into()), ("reason", "r".into())],
        )
        .await;
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("unknown runbook"));
        let r = post(
            start_url("findings.backfill-lifecycle"),
            vec![
                ("scope", "tenant".into()),
                ("tenant", "nope".into()),
                ("reason", "r".into()),
            ],
        )
        .await;
        assert_eq!(r.status(), 404);
        assert!(r.text().await.unwrap().contains("unknown tenant"));
        let r = post(
            start_url("findings.backfill-lifecycle"),
            vec![("scope", "all".into()), ("reason", "   ".into())],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("reason"));
        let r = post(
            start_url("findings.backfill-lifecycle"),
            vec![("scope", "some".into()), ("reason", "r".into())],
        )
        .await;
        assert_eq!(r.status(), 422);
        // Tampered run ids.
        for path in [
            "/system/runs/999999",
            "/system/runs/abc",
            "/system/runs/-1",
            "/system/api/runs/999999",
            "/system/api/runs/1e3",
        ] {
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 404, "{path}");
        }
        let r = post(format!("{base}/system/runs/999999/cancel"), vec![]).await;
        assert_eq!(r.status(), 404);
        let r = post(format!("{base}/system/runs/abc/retry-failed"), vec![]).await;
        assert_eq!(r.status(), 404);
        // The JSON API: malformed JSON, wrong content type.
        let api = format!("{base}/system/api/runbooks/findings.backfill-lifecycle/start");
        let r = c
            .post(&api)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = c.post(&api).body("scope=all").send().await.unwrap();
        assert_eq!(r.status(), 415);
        let r = c
            .post(&api)
            .json(&serde_json::json!({"scope": "all", "reason": ""}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
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
