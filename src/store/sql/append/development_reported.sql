-- Appends a DevelopmentReported event, with its development row, its search
-- document and the story row, to an opened story. A development id used
-- before is refused by story_developments_pkey.
--
-- $1  story_id        uuid
-- $2  expected        int, the version the story must be at; NULL: any
-- $3  event_id        uuid
-- $4  type            text, 'DevelopmentReported'
-- $5  schema_version  int
-- $6  payload         jsonb
-- $7  occurred_at     timestamptz; NULL: the payload's occurredAt
-- $8  metadata        jsonb
-- $9  token           bytea, digest of the caller's token, which must be live; NULL: trusted caller
-- $10 search          text, the development's search document (tsvector)
--
-- Returns the event's position, version, occurred_at and recorded_at, or no
-- row when a check fails (see append/story_opened.sql for the checks).
WITH ins AS (
    INSERT INTO events (position, id, story_id, version, type, schema_version,
                        payload, metadata, occurred_at, recorded_at)
    SELECT xact.base, $3, $1, coalesce(head.version, 0) + 1, $4, $5, $6, $8,
           coalesce($7, ($6::jsonb ->> 'occurredAt')::timestamptz, now_.recorded_at),
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
    RETURNING story_id, version, type, payload, position, occurred_at, recorded_at
), projected AS (
    INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                    reported_in_version, reported_at, verifications)
    SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
           (payload ->> 'occurredAt')::timestamptz, version, recorded_at,
           storyline_reported_verdicts(payload, version, recorded_at)
    FROM ins
    RETURNING 1
), searched AS (
    INSERT INTO story_search (story_id, development_id, search)
    SELECT ins.story_id, (ins.payload ->> 'developmentId')::uuid, $10::tsvector FROM ins
), header AS (
    UPDATE stories s
    SET version = ins.version, updated_at = ins.recorded_at
    FROM ins WHERE s.story_id = ins.story_id
    RETURNING 1
)
SELECT position, version, occurred_at, recorded_at FROM ins
