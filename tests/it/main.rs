//! The one integration test binary. Each scenario runs on SQLite and on
//! PostgreSQL (`TEST_DATABASE_URL`).

mod support;

mod browser;
mod web_console;
mod web_security;
mod web_support;
