//! The terminal kit shared by the CLI and the deploy hook: a command's
//! failure with its exit code, how runs and preflights are shown (text or
//! `--json`), and waiting for runs with a progress bar.

mod failure;
mod out;
mod present;
mod progress;

pub use failure::Failure;
pub(crate) use out::out;
pub use out::write_line;
pub use present::{Times, json, line, preflight, run, runs, tenants, tenants_csv};
pub use progress::{finish_start, wait_for};
