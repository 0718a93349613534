-- The whole feed after a position, as read/feed.sql reads it, each event
-- marked with whether its story is readable without a token now: what the
-- live reader fans out, in one statement per batch (DESIGN §10: a story
-- that turns PUBLIC flows to anonymous subscribers from then on).
--
-- $1  after  bigint, a position
-- $2  limit  bigint
SELECT e.position, e.id, e.story_id, e.version, e.type AS event_type, e.schema_version,
       e.payload::text AS payload, e.metadata, e.occurred_at, e.recorded_at,
       coalesce(storyline_is_public(s.visibility, s.embargo_until), false) AS public
FROM events e
LEFT JOIN stories s ON s.story_id = e.story_id
WHERE e.position > $1
  AND e.position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16)
ORDER BY e.position
LIMIT $2
