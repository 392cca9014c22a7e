//! The three doors to the one runbook service: the web console (`/system`,
//! `/admin`), the CLI, and the deploy hook. Each parses, calls, presents.

pub mod cli;
pub mod deploy_hook;
pub mod web;
