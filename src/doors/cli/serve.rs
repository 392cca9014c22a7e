//! The process commands: `serve` (web door and in-process workers),
//! `worker`, `migrate`, and `deploy:hook` for deploy pipelines.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::watch;

use super::args::{DeployHookArgs, ServeArgs, WorkerArgs};
use super::config::Config;
use crate::accounts;
use crate::app::App;
use crate::console::DemoSeed;
use crate::doors::deploy_hook;
use crate::doors::shell::out;
use crate::doors::shell::{self, Failure};
use crate::doors::web::{self, WebConfig};
use crate::error::Error;
use crate::telemetry;

/// Serves the web door with `--workers` in-process job loops until a signal;
/// with `--metrics-bind`, `/metrics` on a listener of its own.
pub async fn serve(config: &Config, args: ServeArgs) -> Result<ExitCode, Failure> {
    config
        .with_app(async |app| {
            let addr = address("--bind", &args.bind)?;
            let metrics_addr = args
                .metrics_bind
                .as_deref()
                .filter(|a| !a.trim().is_empty())
                .map(|a| address("--metrics-bind", a))
                .transpose()?;
            let web_config = WebConfig {
                metrics_elsewhere: metrics_addr.is_some(),
                ..config.web_config().map_err(Failure::failed)?
            };
            let metrics_token = web_config.metrics_token.clone();
            let router = web::router_with(app.clone(), web_config);
            let demo_operator = if args.demo {
                Some(seed_demo(app, args.demo_password.as_deref()).await.map_err(failed)?)
            } else {
                None
            };
            accounts::password::warm_up();
            let (listener, local) = listen(addr).await?;
            let metrics_listener = match metrics_addr {
                Some(a) => Some(listen(a).await?),
                None => None,
            };
            let workers = args.workers;
            let (stop, stopped) = watch::channel(false);
            let worker_task = (workers > 0)
                .then(|| tokio::spawn(app.worker().run(workers, stopped)));
            let sweeper = tokio::spawn(sweep(app.clone()));
            out!("TenantAtlas Ops listening on http://{local}");
            out!(
                "  console: http://{local}/system · health: http://{local}/healthz · workers in this process: {workers}"
            );
            let metrics_task = metrics_listener.map(|(listener, metrics_local)| {
                out!("  metrics: http://{metrics_local}/metrics");
                let router = web::metrics_router(app.clone(), metrics_token);
                tokio::spawn(async move {
                    let served = web::serve_on(listener, router, telemetry::shutdown_signal()).await;
                    if let Err(e) = served {
                        tracing::error!(error = %e, "metrics listener failed");
                    }
                })
            });
            if let Some(operator) = demo_operator {
                out!("  demo operator: sign in at http://{local}/system/login");
                out!("    email:    {}", operator.operator_email);
                match operator.generated_password {
                    Some(p) => out!(
                        "    password: {p}   (shown once; set TENANTATLAS_DEMO_PASSWORD to choose it)"
                    ),
                    None => out!("    password: the value of TENANTATLAS_DEMO_PASSWORD"),
                }
            }
            tracing::info!(%local, workers, "serving");
            let served = web::serve_on(listener, router, telemetry::shutdown_signal()).await;
            sweeper.abort();
            if let Some(task) = metrics_task {
                task.abort();
            }
            let _ = stop.send(true);
            if let Some(task) = worker_task {
                let _ = task.await;
            }
            served.map_err(|e| Failure::failed(e.to_string()))?;
            Ok(ExitCode::SUCCESS)
        })
        .await
}

/// The address of a flag such as `--bind`.
fn address(flag: &str, value: &str) -> Result<SocketAddr, Failure> {
    value.trim().parse().map_err(|e| {
        Failure::failed(format!(
            "{flag} {value:?} is not an address like 127.0.0.1:8080: {e}"
        ))
    })
}

/// A listener bound to `addr`, and the address it got (port 0 picks one).
async fn listen(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), Failure> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::failed(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::failed(e.to_string()))?;
    Ok((listener, local))
}

/// `serve` stops on any failure, bad demo input included: exit 1.
fn failed(e: Error) -> Failure {
    Failure::failed(e.detail())
}

/// The sample tenants (unless there are demo tenants already) and the demo
/// operator.
async fn seed_demo(app: &App, password: Option<&str>) -> Result<DemoSeed, Error> {
    let seeded = app.demo().seed_demo(password).await?;
    if let Some(added) = &seeded.added {
        out!(
            "demo data: {} tenants, {} legacy findings ({} tenant with a bad finding)",
            added.tenants,
            added.findings,
            added.bad_tenants
        );
    }
    Ok(seeded)
}

/// Expired sessions and login attempts are deleted hourly.
async fn sweep(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match app.accounts().sweep().await {
            Ok(swept) => tracing::debug!(
                sessions = swept.sessions,
                login_attempts = swept.login_attempts,
                "swept expired sign-in state"
            ),
            Err(e) => tracing::warn!(error = %e.detail(), "deleting expired sign-in state failed"),
        }
    }
}

/// Works the queue until a signal; several workers may share one PostgreSQL.
pub async fn worker(config: &Config, args: WorkerArgs) -> Result<ExitCode, Failure> {
    config
        .with_app(async |app| {
            let (stop, stopped) = watch::channel(false);
            tokio::spawn(async move {
                telemetry::shutdown_signal().await;
                let _ = stop.send(true);
            });
            let concurrency = args.concurrency;
            tracing::info!(concurrency, "worker started");
            app.worker().run(concurrency, stopped).await;
            Ok(ExitCode::SUCCESS)
        })
        .await
}

/// Opening the database migrates it and creates `default`/`platform`.
pub async fn migrate(config: &Config, json: bool) -> Result<ExitCode, Failure> {
    config
        .with_app(async |_| {
            shell::line(
                json,
                &serde_json::json!({"migrated": true}),
                "database migrated; workspace default and tenant platform present",
            );
            Ok(ExitCode::SUCCESS)
        })
        .await
}

/// The deploy hook, unless `TENANTATLAS_DEPLOY_RUNBOOKS=off` (then nothing is opened).
pub async fn deploy_hook(
    config: &Config,
    args: DeployHookArgs,
    json: bool,
) -> Result<ExitCode, Failure> {
    if deploy_hook::is_off(&args.deploy_runbooks) {
        return Ok(deploy_hook::skipped(json));
    }
    config
        .with_app(async |app| {
            deploy_hook::run(app, args.release, args.wait.concurrency(), json).await
        })
        .await
}
