-- A story's version: that of its latest event (no row: no event).
--
-- $1  story_id  uuid
SELECT version FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1
