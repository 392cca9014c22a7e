//! The OpenAPI description of `/system/api`: it describes every API route
//! of the route table and nothing else, it is served to operators, and the
//! API's answers match it (every API answer the web tests get goes through
//! `web_support::send`, which checks it).

use tenantatlas::domain::Capability;
use tenantatlas::doors::web::openapi::description;
use tenantatlas::doors::web::routes::table;

use tenantatlas::domain::Reason;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::{RunLimits, TenantState};

use crate::both_backends;
use crate::support::cli::Binary;
use crate::support::runs::{BACKFILL, cli as trusted};
use crate::support::web::{
    assert_status, check_against, check_api_answer, console_as, customer, get_html, get_json, send,
    signed_in, token_of,
};

const API: &str = "/system/api/";

#[test]
fn every_api_route_of_the_table_is_described_and_nothing_else() {
    let doc = description();
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let routes: Vec<(String, String)> = table()
        .into_iter()
        .filter(|r| r.path.starts_with(API))
        .map(|r| (r.method.to_ascii_lowercase(), r.path.to_owned()))
        .collect();
    assert!(routes.len() >= 8, "{routes:?}");
    for (method, path) in &routes {
        assert!(
            doc["paths"][path.as_str()].get(method).is_some(),
            "{} {path} is an API route the OpenAPI description lacks",
            method.to_uppercase()
        );
    }
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            assert!(
                routes.contains(&(method.clone(), path.clone())),
                "{method} {path} is described but not in the route table"
            );
        }
    }
    // Every operation describes its errors with a JSON body.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let schema = op.pointer("/responses/401/content/application~1json/schema");
            assert!(schema.is_some(), "{method} {path}: 401 undescribed");
        }
    }
}

#[test]
fn the_check_refuses_answers_that_break_the_description() {
    let ok = serde_json::json!({"error": "nope"});
    let body = ok.to_string();
    assert!(check_api_answer("GET", "/system/api/runs/7", 404, body.as_bytes()).is_ok());
    let wrong = serde_json::json!({"message": "nope"}).to_string();
    assert!(check_api_answer("GET", "/system/api/runs/7", 404, wrong.as_bytes()).is_err());
    let undescribed = check_api_answer("GET", "/system/api/runs/7", 418, body.as_bytes());
    assert!(undescribed.unwrap_err().contains("418"));
    // A run without its id, or with an outcome the service never gives.
    let run = serde_json::json!({"$ref": "#/components/schemas/Run"});
    let mut sample = serde_json::json!({
        "id": 1, "type": "findings.backfill-lifecycle", "status": "completed",
        "outcome": "succeeded", "workspace_id": 1, "tenant_id": null,
        "progress": {"total": 1, "succeeded": 1, "failed": 0, "not_started": 0,
            "cancelled": 0, "remaining": 0, "percent": 100},
        "summary_counts": {"total": 1, "processed": 1, "succeeded": 1, "failed": 0,
            "items_updated": 3, "items_skipped": 0, "items_failed": 0},
        "failures": [],
        "context": {"initiator": {"kind": "cli", "os_user": null},
            "runbook": "findings.backfill-lifecycle", "scope": {"kind": "all_tenants"},
            "reason": null},
        "created_at": "2026-03-01T12:00:00Z", "started_at": null, "completed_at": null,
        "limits": {"max_concurrency": "10", "max_errors": null, "min_finished": null},
        "reason_code": null, "items_expected": 3, "not_started": 0
    });
    check_against(run.clone(), &sample).unwrap();
    sample["outcome"] = "green".into();
    assert!(check_against(run.clone(), &sample).is_err());
    sample["outcome"] = "succeeded".into();
    sample.as_object_mut().unwrap().remove("id");
    assert!(check_against(run, &sample).is_err());
}

both_backends!(
    the_description_is_served_to_signed_in_operators,
    |t| async move {
        let app = &t.app;
        // An operator without any capability may read it: it shows no data.
        let (server, base, c) = console_as(app, "reader@ops.test", &[]).await;
        let url = format!("{base}/system/api/openapi.json");
        let served = get_json(&c, &url).await;
        assert_eq!(&served, description());
        assert_status(crate::support::web::client().get(&url), 401).await;
        customer(app, "user@customer.test").await;
        let admin = signed_in(&server.base, "admin", "user@customer.test").await;
        // A customer session learns nothing of the operator plane (SR-002).
        assert_status(admin.get(&url), 404).await;
        drop(server);
        // Answers with capabilities check against the description via `send`.
        t.seed(1, 2, 0).await;
        let (_server, base, c) = console_as(app, "op@ops.test", &Capability::ALL).await;
        let r = send(c.get(format!("{base}/system/api/runs/1e3"))).await;
        assert_eq!(r.status(), 404);
        // A path segment that is not UTF-8 is refused in JSON, as described.
        let cancel = c.post(format!("{base}/system/api/runs/%FF%FE/cancel"));
        let r = send(cancel.json(&serde_json::json!({}))).await;
        assert_eq!(r.status(), 400, "{:?}", r.text().await);
        let r = send(c.get(format!("{base}/system/api/runbooks"))).await;
        assert_eq!(r.status(), 200);
    }
);

/// Whether `value` as `field` of the component schema `body` passes.
fn passes(body: &str, field: &str, value: &str) -> bool {
    let schema = serde_json::json!({"$ref": format!("#/components/schemas/{body}")});
    check_against(schema, &serde_json::json!({ field: value })).is_ok()
}

#[test]
fn the_descriptions_patterns_accept_what_the_service_accepts() {
    let long = "x".repeat(2000);
    let mut texts: Vec<String> = [
        "",
        " ",
        "0",
        "1",
        "01",
        "000000001",
        "0000000001",
        "999999999",
        "1000000000",
        "10%",
        " 10 % ",
        "100%",
        "0100%",
        "101%",
        "0%",
        "5%%",
        "%",
        "-1",
        "+1",
        "1e3",
        "\t7\n",
        "\u{a0}3",
        "\u{feff}3",
        "\u{85}4",
        "٣",
        "x",
        " x ",
        "a\nb",
        "a\r\nb",
        "a\rb",
        "a\u{0}b",
        "a\u{202e}b",
        "\u{2028}",
        "a\u{2028}b",
        "\u{feff}",
    ]
    .map(String::from)
    .to_vec();
    texts.extend([long.clone(), format!(" {long}\n"), format!("{long}x")]);
    for v in &texts {
        let v = v.as_str();
        let limits = |cap, errors, min| RunLimits::parse(cap, errors, min).is_ok();
        assert_eq!(
            passes("LimitsBody", "max_concurrency", v),
            limits(Some(v), None, None),
            "cap {v:?}"
        );
        assert_eq!(
            passes("LimitsBody", "max_errors", v),
            limits(None, Some(v), None),
            "budget {v:?}"
        );
        assert_eq!(
            passes("LimitsBody", "min_finished", v),
            limits(None, None, Some(v)),
            "min {v:?}"
        );
        let reason = Reason::parse(Some(v), true).is_ok();
        assert_eq!(
            passes("RetryFailedBody", "reason", v),
            reason,
            "reason {v:?}"
        );
        let states = TenantState::parse_retry_states(Some(v)).is_ok_and(|s| !s.is_empty());
        assert_eq!(
            passes("RetryByStateBody", "states", v),
            states,
            "states {v:?}"
        );
    }
    for v in [
        "failed",
        " failed , cancelled,",
        ",not_started",
        "failed failed",
        "succeeded",
    ] {
        let states = TenantState::parse_retry_states(Some(v)).is_ok();
        assert_eq!(
            passes("RetryByStateBody", "states", v),
            states,
            "states {v:?}"
        );
    }
}

both_backends!(
    the_api_refuses_what_it_does_not_understand_and_starts_nothing,
    |t| async move {
        t.seed(3, 2, 1).await;
        let (_server, base, c) = console_as(&t.app, "op@ops.test", &Capability::ALL).await;
        let runs = "SELECT count(*) FROM operation_runs";
        let start = format!("{base}/system/api/runbooks/{BACKFILL}/start");
        let refused = async |body: serde_json::Value, names: &[&str]| {
            let r = assert_status(c.post(&start).json(&body), 422).await;
            let error = r.json::<serde_json::Value>().await.unwrap()["error"].clone();
            for name in names {
                assert!(error.as_str().unwrap().contains(name), "{body}: {error}");
            }
        };
        // A typo is not a missing limit; a tenant is not ignored beside "all".
        let typo = serde_json::json!({"scope": "all", "reason": "x", "max_concurency": "1"});
        refused(typo, &["max_concurency"]).await;
        let both = serde_json::json!({"scope": "all", "tenant": "demo-00002", "reason": "x"});
        refused(both, &["tenant", "all"]).await;
        let blank = serde_json::json!({"scope": "all", "tenant": "", "reason": "x"});
        refused(blank, &["tenant"]).await;
        // A body that is not the schema's object, even one serde would read
        // as the fields in order.
        let in_order = serde_json::json!(["all", null, "x", null, null, null]);
        for body in [
            in_order,
            serde_json::json!([]),
            "all".into(),
            1.into(),
            serde_json::Value::Null,
        ] {
            refused(body, &["object"]).await;
        }
        let malformed = c.post(&start).header("content-type", "application/json");
        assert_status(malformed.body("{\"scope\":"), 400).await;
        // Contradictions are refused on the preflight too.
        let preflight = format!("{base}/system/api/runbooks/{BACKFILL}/preflight");
        assert_status(
            c.get(format!("{preflight}?scope=all&tenant=demo-00002")),
            422,
        )
        .await;
        assert_eq!(t.count(runs).await, 0, "nothing started");
        let (runbooks, actor) = (t.app.runbooks(), trusted());
        let run = runbooks.start(&actor, BACKFILL, &ScopeRequest::AllTenants, None);
        let id = run.await.unwrap().run.id;

        // Pause, resume and cancel take `{}` and nothing else.
        let api = format!("{base}/system/api/runs/{id}");
        for control in ["pause", "resume", "cancel"] {
            let url = format!("{api}/{control}");
            for body in [serde_json::json!({"force": true}), serde_json::json!([])] {
                assert_status(c.post(&url).json(&body), 422).await;
            }
        }
        assert_eq!(get_json(&c, &api).await["status"], "queued");
        assert_status(
            c.post(format!("{api}/pause")).json(&serde_json::json!({})),
            200,
        )
        .await;

        // A blank reason is refused on retry as on start: API, form, CLI.
        assert_status(
            c.post(format!("{api}/resume")).json(&serde_json::json!({})),
            200,
        )
        .await;
        t.drain().await;
        for reason in ["", "   "] {
            for retry in ["retry", "retry-failed"] {
                let body = serde_json::json!({"reason": reason});
                assert_status(c.post(format!("{api}/{retry}")).json(&body), 422).await;
            }
        }
        let page = format!("{base}/system/runs/{id}");
        let tok = token_of(&get_html(&c, &page).await);
        let form = [("_token", tok.as_str()), ("reason", "  ")];
        assert_status(c.post(format!("{page}/retry-failed")).form(&form), 422).await;
        let bin = Binary::new(&t.db.url, &[]);
        let out = bin.run(&format!("runs retry {id} --reason '  '")).await;
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains("reason"), "{}", out.stderr);
        assert_eq!(t.count(runs).await, 1, "no retry started");
        // A form's empty reason box is no reason: the default one.
        let form = [("_token", tok.as_str()), ("reason", "")];
        assert_status(c.post(format!("{page}/retry-failed")).form(&form), 303).await;
        assert_eq!(t.count(runs).await, 2);

        // The runs list: a page that is no page number is refused; a page
        // past the last shows the last.
        for bad in ["abc", "-1", "0", "1000000000000", "1.5"] {
            let api = format!("{base}/system/api/runs?page={bad}");
            assert_status(c.get(api), 422).await;
            let r = assert_status(c.get(format!("{base}/system/runs?page={bad}")), 422).await;
            let html = r.text().await.unwrap().to_lowercase();
            assert!(html.contains("page must be a whole number"), "page={bad}");
        }
        let far = assert_status(c.get(format!("{base}/system/runs?page=999")), 200).await;
        assert!(
            far.text()
                .await
                .unwrap()
                .contains(&format!("/system/runs/{id}"))
        );
        let far = get_json(&c, format!("{base}/system/api/runs?page=999")).await;
        assert_eq!(far, serde_json::json!([]));
    }
);

#[test]
#[ignore = "prints the description"]
fn print_the_description() {
    println!("{}", serde_json::to_string_pretty(description()).unwrap());
}
