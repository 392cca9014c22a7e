//! Runs as the tests start them: the CLI's actor (built once), the lifecycle
//! backfill's key, and starting, draining and preflighting over all tenants.

use tenantatlas::domain::Actor;
use tenantatlas::runbooks::ScopeRequest;
use tenantatlas::runs::Initiator;

/// The lifecycle backfill, the runbook most scenarios run.
pub const BACKFILL: &str = "findings.backfill-lifecycle";

/// The CLI's actor: trusted, as a shell on the machine is.
pub fn cli() -> Actor {
    Actor::trusted(Initiator::Cli {
        os_user: None,
        host: None,
    })
}

/// Starts runbook `key` over all tenants, as the CLI.
pub async fn start_all(app: &tenantatlas::app::App, key: &str) -> tenantatlas::runs::Ensured {
    let scope = ScopeRequest::AllTenants;
    app.runbooks()
        .start(&cli(), key, &scope, None)
        .await
        .unwrap()
}

/// Starts runbook `key` over all tenants, works the queue empty, and returns the run.
pub async fn run_all(t: &crate::support::TestApp, key: &str) -> tenantatlas::runs::Run {
    let id = start_all(&t.app, key).await.run.id;
    t.drain().await;
    t.app.runs().get(id).await.unwrap()
}

/// The preflight of runbook `key` over all tenants, as the CLI.
pub async fn preflight_all(
    app: &tenantatlas::app::App,
    key: &str,
) -> tenantatlas::runbooks::Preflight {
    let scope = ScopeRequest::AllTenants;
    app.runbooks().preflight(&cli(), key, &scope).await.unwrap()
}
