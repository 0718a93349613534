-- Story ids after one in id order, read from the events, for walking every
-- story.
--
-- $1  after  uuid (the nil uuid: from the first)
-- $2  limit  bigint
SELECT DISTINCT story_id FROM events WHERE story_id > $1 ORDER BY story_id LIMIT $2
