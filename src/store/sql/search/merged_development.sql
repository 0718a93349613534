-- A live development's payload with its corrections merged in, as text: a
-- correction re-analyses it in its own transaction.
--
-- $1  story_id        uuid
-- $2  development_id  uuid
SELECT payload::text FROM story_developments
WHERE story_id = $1 AND development_id = $2 AND retracted_in_version IS NULL
