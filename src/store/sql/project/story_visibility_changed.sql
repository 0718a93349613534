-- Sets the story row's visibility and embargo from a StoryVisibilityChanged
-- event appended by append/several.sql, inside its transaction.
--
-- $1  story_id     uuid
-- $2  version      int, the event's
-- $3  type         text
-- $4  payload      jsonb
-- $5  occurred_at  timestamptz
-- $6  recorded_at  timestamptz
--
-- Returns the number of story rows changed: 1, or 0 when the story is not
-- opened (the caller then rolls back).
WITH ins AS (
    SELECT $1::uuid AS story_id, $2::int AS version, $3::text AS type,
           $4::jsonb AS payload, $5::timestamptz AS occurred_at,
           $6::timestamptz AS recorded_at
), header AS (
    UPDATE stories s
    SET version = ins.version, updated_at = ins.recorded_at,
        visibility = ins.payload ->> 'visibility',
        embargo_until = (ins.payload ->> 'embargoUntil')::timestamptz
    FROM ins WHERE s.story_id = ins.story_id
    RETURNING 1
)
SELECT count(*) FROM header
