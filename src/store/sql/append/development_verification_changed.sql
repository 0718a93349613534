-- Appends a DevelopmentVerificationChanged event and adds its verdict to the
-- development row, if the story is opened and the development it names
-- exists and is not retracted.
--
-- $1  story_id        uuid
-- $2  expected        int, the version the story must be at; NULL: any
-- $3  event_id        uuid
-- $4  type            text, 'DevelopmentVerificationChanged'
-- $5  schema_version  int
-- $6  payload         jsonb
-- $7  occurred_at     timestamptz; NULL: the development's occurredAt
-- $8  metadata        jsonb
-- $9  token           bytea, digest of the caller's token, which must be live; NULL: trusted caller
-- $10 search          text, unused (bound for every one-event append alike)
--
-- Returns the event's position, version, occurred_at and recorded_at, or no
-- row when a check fails (see append/story_opened.sql for the checks).
WITH ins AS (
    INSERT INTO events (position, id, story_id, version, type, schema_version,
                        payload, metadata, occurred_at, recorded_at)
    SELECT xact.base, $3, $1, coalesce(head.version, 0) + 1, $4, $5, $6, $8,
           coalesce($7,
                    (SELECT occurred_at FROM story_developments
                     WHERE story_id = $1
                       AND development_id = ($6::jsonb ->> 'developmentId')::uuid),
                    now_.recorded_at),
           now_.recorded_at
    FROM (SELECT (pg_current_xact_id()::text::bigint + storyline_position_offset()) << 16 AS base) AS xact
    LEFT JOIN LATERAL (
        SELECT version, recorded_at, position
        FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1
    ) AS head ON true
    CROSS JOIN LATERAL (
        SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
    ) AS now_
    WHERE ($2::int IS NULL OR coalesce(head.version, 0) = $2)
      AND xact.base > coalesce(head.position, 0)
      AND ($9::bytea IS NULL OR (SELECT revoked_at IS NULL FROM tokens WHERE hash = $9))
      AND head.version IS NOT NULL
      AND EXISTS (
          SELECT 1 FROM story_developments
          WHERE story_id = $1 AND development_id = ($6::jsonb ->> 'developmentId')::uuid
            AND retracted_in_version IS NULL)
    RETURNING story_id, version, type, payload, position, occurred_at, recorded_at
), projected AS (
    UPDATE story_developments d
    SET verifications = d.verifications
                        || jsonb_build_array(storyline_verdict(ins.payload, ins.version,
                                                               ins.recorded_at))
    FROM ins
    WHERE d.story_id = ins.story_id
      AND d.development_id = (ins.payload ->> 'developmentId')::uuid
      AND d.retracted_in_version IS NULL
    RETURNING 1
), header AS (
    UPDATE stories s
    SET version = ins.version, updated_at = ins.recorded_at
    FROM ins WHERE s.story_id = ins.story_id
    RETURNING 1
)
SELECT position, version, occurred_at, recorded_at FROM ins
