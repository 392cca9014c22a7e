//! A request reads its session and its signed-in person in one statement:
//! what a session answers for is the person as they are now (capabilities,
//! deactivation, the session's expiry), on both backends; and sessions
//! signed in before that column existed keep their person after the upgrade.

use std::borrow::Cow;
use std::path::Path;

use tenantatlas::domain::Capability;
use tenantatlas::storage::Db;

use crate::both_backends;
use crate::support::web::*;
use crate::support::{Backend, TestDb};

both_backends!(
    a_session_answers_for_its_person_as_they_are_now,
    |t| async move {
        let app = &t.app;
        let (_server, base, c) = console_as(app, "now@ops.test", &Capability::ALL).await;
        let api = format!("{base}/system/api/runs");
        assert_status(c.get(&api), 200).await;
        assert_status(c.get(format!("{base}/system/alerts")), 200).await;

        // The session's row names its person beside its data.
        let (plane, user_id): (String, Option<i64>) = app
            .db
            .fetch_one("SELECT plane, user_id FROM sessions", vec![])
            .await
            .unwrap();
        let operator_id: i64 = app
            .db
            .scalar(
                "SELECT id FROM platform_users WHERE email = 'now@ops.test'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!((plane.as_str(), user_id), ("system", Some(operator_id)));

        // A capability taken away is gone on the next request.
        let view_only = format!(
            "UPDATE platform_users SET capabilities = '{}' WHERE id = {operator_id}",
            Capability::OPERATIONS_VIEW
        );
        t.exec(&view_only).await;
        assert_status(c.get(format!("{base}/system/alerts")), 403).await;
        assert_status(c.get(&api), 200).await;

        // A deactivated operator's session signs in no one.
        let active = |on: bool| {
            let value = match (t.db.backend, on) {
                (Backend::Sqlite, true) => "1",
                (Backend::Sqlite, false) => "0",
                (Backend::Postgres, true) => "TRUE",
                (Backend::Postgres, false) => "FALSE",
            };
            format!("UPDATE platform_users SET active = {value} WHERE id = {operator_id}")
        };
        t.exec(&active(false)).await;
        assert_status(c.get(&api), 401).await;
        let page = assert_status(c.get(format!("{base}/system/runs")), 303).await;
        assert!(location(&page).starts_with("/system/login"), "{page:?}");
        t.exec(&active(true)).await;
        assert_status(c.get(&api), 200).await;

        // The person is the one the row names: a row naming no operator signs
        // in no one, whatever its data says.
        t.exec(&format!(
            "UPDATE sessions SET user_id = {}",
            operator_id + 1000
        ))
        .await;
        assert_status(c.get(&api), 401).await;
        t.exec(&format!("UPDATE sessions SET user_id = {operator_id}"))
            .await;
        assert_status(c.get(&api), 200).await;

        // An expired session signs in no one.
        t.exec("UPDATE sessions SET expires_at_ms = 0").await;
        assert_status(c.get(&api), 401).await;
    }
);

both_backends!(signing_out_leaves_no_session_row, |t| async move {
    let app = &t.app;
    let (_server, base, c) = console_as(app, "out@ops.test", &Capability::ALL).await;
    let rows = || async {
        app.db
            .scalar::<i64>("SELECT count(*) FROM sessions", vec![])
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 1);
    let t0 = token(&c, &format!("{base}/system/runs")).await;
    let out = send(
        c.post(format!("{base}/system/logout"))
            .form(&[("_token", t0)]),
    )
    .await;
    assert_eq!(out.status(), 303, "sign-out");
    assert_eq!(rows().await, 0);
    assert_status(c.get(format!("{base}/system/api/runs")), 401).await;
});

/// Migrates a fresh database to just before the session column, signs a
/// session of each plane in the old format, then runs every migration.
async fn sessions_keep_their_person_across_the_upgrade(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let raw = Db::open(&db.url, 2).await.expect("open");
    let folder = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut before =
        sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder))
            .await
            .expect("migrations");
    let old: Vec<_> = before
        .migrations
        .iter()
        .filter(|m| m.version < 10)
        .cloned()
        .collect();
    before.migrations = Cow::Owned(old);
    match &raw {
        Db::Sqlite(p) => before.run(p).await,
        Db::Postgres(p) => before.run(p).await,
    }
    .expect("migrate to 0009");
    for (id, plane, data) in [
        ("a", "system", r#"{"operator_id":7,"csrf":"x"}"#),
        ("b", "admin", r#"{"user_id":9,"csrf":"y"}"#),
        ("c", "system", r#"{"csrf":"z"}"#),
    ] {
        raw.execute(
            &format!(
                "INSERT INTO sessions (id, plane, data, expires_at_ms) \
                 VALUES ('{id}', '{plane}', '{data}', 9999999999999)"
            ),
            vec![],
        )
        .await
        .expect("old session");
    }
    raw.migrate().await.expect("migrate to the last");
    let rows: Vec<(String, Option<i64>)> = raw
        .fetch_all("SELECT id, user_id FROM sessions ORDER BY id", vec![])
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            ("a".to_owned(), Some(7)),
            ("b".to_owned(), Some(9)),
            ("c".to_owned(), None)
        ]
    );
    raw.close().await;
    db.teardown().await;
}

#[tokio::test]
async fn sessions_keep_their_person_across_the_upgrade_sqlite() {
    sessions_keep_their_person_across_the_upgrade(Backend::Sqlite).await;
}

#[tokio::test]
async fn sessions_keep_their_person_across_the_upgrade_postgres() {
    sessions_keep_their_person_across_the_upgrade(Backend::Postgres).await;
}

/// The session cookie a sign-in set: `name=value`.
fn session_cookie(r: &reqwest::Response) -> String {
    set_cookies(r)
        .into_iter()
        .find(|c| c.starts_with("tenantatlas_system_session="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("a session cookie")
}

both_backends!(
    two_session_cookies_make_one_session_not_two,
    |t| async move {
        // A request sending two session cookies of its plane is whichever
        // session the session layer takes (the last), for who is signed in
        // as for the session's CSRF token: never one person with another
        // session's token.
        let app = &t.app;
        operator(app, "all@ops.test", &Capability::ALL).await;
        operator(app, "view@ops.test", &[Capability::OPERATIONS_VIEW]).await;
        let server = start(app).await;
        let base = &server.base;
        let all =
            session_cookie(&login_as(&client(), base, "system", "all@ops.test", PASSWORD).await);
        let view =
            session_cookie(&login_as(&client(), base, "system", "view@ops.test", PASSWORD).await);
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let alerts = format!("{base}/system/alerts");
        let with = |cookies: String| plain.get(&alerts).header("cookie", cookies);
        assert_status(with(format!("{all}; {view}")), 403).await;
        assert_status(with(format!("{view}; {all}")), 200).await;
        assert_status(
            with(format!("{all}; tenantatlas_system_session=nonsense")),
            303,
        )
        .await;
    }
);
