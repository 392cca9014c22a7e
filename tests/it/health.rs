//! Health, readiness and metrics answer on both backends.

use crate::both_backends;
use crate::web_support::{client, start};

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
