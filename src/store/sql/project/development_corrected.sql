-- Merges a DevelopmentCorrected event appended by append/several.sql into
-- its development row, inside its transaction (the story row is moved on
-- once, at the append's end: project/story_moved_on.sql).
--
-- $1  story_id     uuid
-- $2  version      int, the event's
-- $3  type         text
-- $4  payload      jsonb
-- $5  occurred_at  timestamptz
-- $6  recorded_at  timestamptz
--
-- Returns the number of development rows changed: 1, or 0 when the
-- development is unknown or retracted (the caller then rolls back).
WITH ins AS (
    SELECT $1::uuid AS story_id, $2::int AS version, $3::text AS type,
           $4::jsonb AS payload, $5::timestamptz AS occurred_at,
           $6::timestamptz AS recorded_at
), projected AS (
    UPDATE story_developments d
    SET payload = d.payload || (ins.payload -> 'changes'),
        occurred_at = coalesce((ins.payload -> 'changes' ->> 'occurredAt')::timestamptz,
                               d.occurred_at),
        corrected_in_versions = d.corrected_in_versions || ins.version
    FROM ins
    WHERE d.story_id = ins.story_id
      AND d.development_id = (ins.payload ->> 'developmentId')::uuid
      AND d.retracted_in_version IS NULL
    RETURNING 1
)
SELECT count(*) FROM projected
