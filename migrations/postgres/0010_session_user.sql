-- Who signed in to a session, in a column of its own beside the session's
-- data: a request reads its session and its signed-in person in one
-- statement. Sessions signed in before this migration keep their person.
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
UPDATE sessions
SET user_id = (data::jsonb ->> CASE plane WHEN 'system' THEN 'operator_id' ELSE 'user_id' END)::bigint;
