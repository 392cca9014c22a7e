//! The one integration test binary. Each scenario runs on SQLite and on
//! PostgreSQL (`TEST_DATABASE_URL`).

mod backfill;
mod cli;
mod runs;
mod support;
mod workers_e2e;
