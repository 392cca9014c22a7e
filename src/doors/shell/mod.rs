//! The terminal kit shared by the CLI and the deploy hook: a command's
//! failure with its exit code, how runs and preflights are shown (text or
//! `--json`), and waiting for runs with a progress bar.

mod failure;
mod present;
mod progress;

pub use failure::Failure;
pub use present::{json, line, preflight, run, runs};
pub use progress::{finish_start, wait_for};
