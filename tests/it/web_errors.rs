//! Error pages keep the plane's chrome for a signed-in person and offer a
//! way back; unknown paths and the other plane's paths still answer alike
//! (SR-002) — on both backends.

use tenantatlas::domain::Capability;

use crate::both_backends;
use crate::support::web::*;

fn has_chrome(html: &str) -> bool {
    html.contains("class=\"mainnav\"") && html.contains("Sign out")
}

both_backends!(error_pages_keep_the_chrome_and_a_way_back, |t| async move {
    let viewer = [Capability::RUNBOOKS_VIEW, Capability::OPERATIONS_VIEW];
    let (server, base, c) = console_as(&t.app, "viewer@ops.test", &viewer).await;

    // 403: the menu, sign-out and the way back to where the operator was.
    let from = format!("{base}/system/runs?page=2");
    let r = c
        .get(format!("{base}/system/alerts"))
        .header("referer", &from);
    let html = assert_status(r, 403).await.text().await.unwrap();
    assert!(has_chrome(&html), "{html}");
    assert!(html.contains("platform.alerts.manage"));
    assert!(
        html.contains("id=\"error-back\"") && html.contains("href=\"/system/runs?page=2\""),
        "{html}"
    );
    assert!(html.contains("href=\"/system\" id=\"error-home\""));

    // Another site's page is no way back.
    let r = c
        .get(format!("{base}/system/alerts"))
        .header("referer", "https://elsewhere.example/system/runs");
    let html = assert_status(r, 403).await.text().await.unwrap();
    assert!(!html.contains("id=\"error-back\"") && !html.contains("elsewhere"));

    // 404 of a handler and of an unknown path alike.
    for path in ["/system/runs/987654", "/system/no-such-page"] {
        let html = assert_status(c.get(format!("{base}{path}")), 404)
            .await
            .text()
            .await
            .unwrap();
        assert!(has_chrome(&html), "{path}: {html}");
        assert!(html.contains("Back to the dashboard"), "{path}");
    }
    // The section of the failed page is marked in the menu.
    let html = get_status_html(&c, &format!("{base}/system/runs/987654"), 404).await;
    assert!(
        html.contains("href=\"/system/runs\" class=\"active\""),
        "{html}"
    );

    // 422 from a handler's bad input, in the chrome too.
    let html = get_status_html(&c, &format!("{base}/system/runs?outcome=bogus"), 422).await;
    assert!(has_chrome(&html), "{html}");

    // The other plane's paths: an operator's session is not a customer's,
    // and a known admin path answers exactly like an unknown one (SR-002).
    let known = get_status_html(&c, &format!("{base}/admin/findings"), 404).await;
    let unknown = get_status_html(&c, &format!("{base}/admin/no-such-page"), 404).await;
    assert_eq!(known, unknown);
    assert!(!has_chrome(&known));

    // Nobody signed in: the plain page, with ways back.
    let anon = client();
    let html = get_status_html(&anon, &format!("{base}/system/no-such-page"), 404).await;
    assert!(!has_chrome(&html) && html.contains("id=\"error-ways-back\""));

    // A customer's session on the console: known and unknown paths alike.
    customer(&t.app, "cu@customer.test").await;
    let cu = signed_in(&base, "admin", "cu@customer.test").await;
    let known = get_status_html(&cu, &format!("{base}/system/alerts"), 404).await;
    let unknown = get_status_html(&cu, &format!("{base}/system/no-such-page"), 404).await;
    assert_eq!(known, unknown);
    drop(server);
});

async fn get_status_html(c: &reqwest::Client, url: &str, status: u16) -> String {
    assert_status(c.get(url), status)
        .await
        .text()
        .await
        .unwrap()
}

both_backends!(
    every_list_refuses_a_page_that_is_no_page_number,
    |t| async move {
        let (_server, base, c) = console_as(&t.app, "lists@ops.test", &Capability::ALL).await;
        // A page past the end is the last page; one that is no page number
        // (`abc`, `-1`, `10^12`) is refused with the reason, on every list.
        for path in [
            "/system/runs",
            "/system/audit",
            "/system/alerts",
            "/system/notifications",
            "/system/api/runs",
        ] {
            for bad in ["abc", "-1", "1000000000000"] {
                let r = c.get(format!("{base}{path}?page={bad}"));
                let body = assert_status(r, 422).await.text().await.unwrap();
                let said = body.to_lowercase().contains("page must be a whole number");
                assert!(said, "{path}?page={bad}: {body:.300}");
            }
            assert_status(c.get(format!("{base}{path}?page=999")), 200).await;
        }
    }
);
