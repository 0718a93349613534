-- A page of the global feed: events after a position, in position order,
-- of any story. Only settled events: those whose transaction id lies below
-- the oldest transaction still running (pg_snapshot_xmin of this
-- statement's snapshot), so a reader that has seen position p never later
-- meets a new event at or below p (see feed.rs).
--
-- $1  after  bigint, a position
-- $2  limit  bigint
-- $3  types  text[]; NULL: every type
-- $4  public_only  boolean; true: only events of stories readable without a
--                  token now (the others' positions are skipped)
SELECT position, id, story_id, version, type AS event_type, schema_version,
       payload::text AS payload, metadata, occurred_at, recorded_at
FROM events
WHERE ($3::text[] IS NULL OR type = ANY($3))
  AND position > $1
  AND position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16)
  AND (NOT $4 OR EXISTS (SELECT 1 FROM stories s
                          WHERE s.story_id = events.story_id
                            AND storyline_is_public(s.visibility, s.embargo_until)))
ORDER BY position
LIMIT $2
