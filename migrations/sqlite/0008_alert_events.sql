-- The recovery notice looks up the last completed run of a run's identity.
CREATE INDEX operation_runs_identity_id ON operation_runs (run_identity, id);
