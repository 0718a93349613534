-- A page of one story's part of the global feed, as read/feed.sql reads the
-- whole: a statement of its own so that its plan can use the story's index
-- where the whole feed's goes by position.
--
-- $1  after     bigint, a position
-- $2  limit     bigint
-- $3  types     text[]; NULL: every type
-- $4  story_id  uuid
-- $5  public_only  boolean; true: nothing unless the story is readable
--                  without a token now
SELECT position, id, story_id, version, type AS event_type, schema_version,
       payload::text AS payload, metadata, occurred_at, recorded_at
FROM events
WHERE story_id = $4 AND ($3::text[] IS NULL OR type = ANY($3))
  AND position > $1
  AND position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16)
  AND (NOT $5 OR EXISTS (SELECT 1 FROM stories s
                          WHERE s.story_id = events.story_id
                            AND storyline_is_public(s.visibility, s.embargo_until)))
ORDER BY position
LIMIT $2
