//! The one integration test binary. Each scenario runs on SQLite and on
//! PostgreSQL (`TEST_DATABASE_URL`).

mod alert_events;
mod alerts;
mod architecture;
mod backfill;
mod backfill_lease;
mod browser;
mod browser_a11y;
mod browser_progress;
mod browser_runs;
mod cli;
mod clock_skew;
mod controls;
mod egress;
mod faults;
mod health;
mod hostile_input;
mod lock_order;
mod openapi;
mod pipes;
mod queue_batches;
mod queue_executor;
mod runs;
mod schemathesis;
mod support;
mod web_alerts;
mod web_audit;
mod web_console;
mod web_errors;
mod web_runs;
mod web_security;
mod web_sessions;
mod web_signin;
mod workers_e2e;
