-- Time a run spent paused after it started, so its rate counts only running
-- time: the total of earlier pauses, and when the current pause began.
ALTER TABLE operation_runs ADD COLUMN paused_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operation_runs ADD COLUMN paused_since_ms INTEGER NULL;
