-- How many settled events of the global feed a filter keeps (see
-- read/feed.sql for "settled").
--
-- $1  story_id  uuid; NULL: every story
-- $2  types     text[]; NULL: every type
-- $3  public_only  boolean; true: only events of stories readable without a
--                  token now
SELECT count(*)
FROM events
WHERE ($1::uuid IS NULL OR story_id = $1) AND ($2::text[] IS NULL OR type = ANY($2))
  AND position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16)
  AND (NOT $3 OR EXISTS (SELECT 1 FROM stories s
                          WHERE s.story_id = events.story_id
                            AND storyline_is_public(s.visibility, s.embargo_until)))
