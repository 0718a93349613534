-- How many settled events of the global feed a filter keeps (see
-- read/feed.sql for "settled").
--
-- $1  story_id  uuid; NULL: every story
-- $2  types     text[]; NULL: every type
SELECT count(*)
FROM events
WHERE ($1::uuid IS NULL OR story_id = $1) AND ($2::text[] IS NULL OR type = ANY($2))
  AND position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16)
