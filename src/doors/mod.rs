//! The three doors to the one runbook service: the web console (`/system`,
//! `/admin`), the CLI, and the deploy hook. Each parses, calls, presents;
//! `shell` is the terminal kit the CLI and the deploy hook share.

pub mod cli;
pub mod deploy_hook;
pub mod shell;
pub mod web;
