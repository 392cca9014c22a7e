//! The OpenAPI description of `/system/api`: it describes every API route
//! of the route table and nothing else, it is served to operators, and the
//! API's answers match it (every API answer the web tests get goes through
//! `web_support::send`, which checks it).

use tenantatlas::domain::Capability;
use tenantatlas::doors::web::openapi::description;
use tenantatlas::doors::web::routes::table;

use crate::both_backends;
use crate::support::web::{
    assert_status, check_against, check_api_answer, console_as, customer, get_json, send, signed_in,
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

#[test]
#[ignore = "prints the description"]
fn print_the_description() {
    println!("{}", serde_json::to_string_pretty(description()).unwrap());
}
