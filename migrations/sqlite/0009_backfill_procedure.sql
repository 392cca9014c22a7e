-- PostgreSQL runs the lifecycle backfill's chunk loop in a procedure
-- (migrations/postgres/0009); SQLite runs in the service's process, so its
-- loop stays in the runbook. Nothing to change here.
SELECT 1;
