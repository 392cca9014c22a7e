//! Logs through `tracing`: human text (coloured only on a terminal without
//! `NO_COLOR`), JSON with `LOG_FORMAT=json`;
//! and the process's metrics recorder ([`metrics`]).

pub mod metrics;
pub mod metrics_token;

pub use metrics_token::MetricsToken;

use tracing_subscriber::EnvFilter;

/// Sets up logging to stderr: `filter` (`RUST_LOG` syntax) or else
/// `default_level`; JSON lines when `json`, human text otherwise.
pub fn init(default_level: &str, filter: Option<&str>, json: bool) {
    let filter = filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_on_stderr())
        .with_writer(std::io::stderr);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (to
/// anything but the empty string: no-color.org).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
