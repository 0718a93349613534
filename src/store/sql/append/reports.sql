-- Appends several DevelopmentReported events to one opened story (import's
-- common case): the events, their development rows and search documents and
-- the story row in one statement, so each payload crosses the wire and is
-- parsed once.
--
-- $1  story_id         uuid
-- $2  expected         int, the version the story must be at; NULL: any
-- $3  event_ids        uuid[]         one element per event, in order
-- $4  schema_versions  int[]
-- $5  payloads         jsonb[]
-- $6  occurred_at      timestamptz[]  NULL elements: the payload's occurredAt
-- $7  searches         text[]         the developments' search documents (tsvector)
-- $8  metadata         jsonb, the same for every event
-- $9  token            bytea, digest of the caller's token, which must be live; NULL: trusted caller
--
-- Returns each event's position, version, occurred_at and recorded_at, or no
-- row when a check fails (see append/story_opened.sql for the checks).
WITH e AS (
    SELECT * FROM unnest($3::uuid[], $4::int[], $5::jsonb[], $6::timestamptz[], $7::text[])
        WITH ORDINALITY AS e(id, schema_version, payload, occurred_at, search, ord)
), ins AS (
    INSERT INTO events (position, id, story_id, version, type, schema_version,
                        payload, metadata, occurred_at, recorded_at)
    SELECT xact.base + e.ord - 1, e.id, $1, coalesce(head.version, 0) + e.ord::int,
           'DevelopmentReported', e.schema_version, e.payload, $8,
           coalesce(e.occurred_at, (e.payload ->> 'occurredAt')::timestamptz),
           now_.recorded_at
    FROM (SELECT (pg_current_xact_id()::text::bigint + storyline_position_offset()) << 16 AS base) AS xact
    LEFT JOIN LATERAL (
        SELECT version, recorded_at, position
        FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1
    ) AS head ON true
    CROSS JOIN LATERAL (
        SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
    ) AS now_
    CROSS JOIN e
    WHERE ($2::int IS NULL OR coalesce(head.version, 0) = $2)
      AND xact.base > coalesce(head.position, 0)
      AND ($9::bytea IS NULL OR (SELECT revoked_at IS NULL FROM tokens WHERE hash = $9))
      AND head.version IS NOT NULL
    RETURNING id, story_id, version, type, payload, position, occurred_at, recorded_at
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
    SELECT ins.story_id, (ins.payload ->> 'developmentId')::uuid, e.search::tsvector
    FROM ins JOIN e ON e.id = ins.id
), header AS (
    UPDATE stories s SET version = last.version, updated_at = last.recorded_at
    FROM (SELECT version, recorded_at FROM ins ORDER BY version DESC LIMIT 1) AS last
    WHERE s.story_id = $1
)
SELECT position, version, occurred_at, recorded_at FROM ins
