-- When a story last moved (the recorded time of its latest event).
--
-- $1  story_id  uuid
SELECT updated_at FROM stories WHERE story_id = $1
