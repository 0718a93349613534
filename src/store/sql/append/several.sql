-- Appends several events to one story, not all of them reports, at its
-- head: only the events. The caller then projects each in order in the same
-- transaction (project/*.sql) and rolls back if one breaks a rule; runs of
-- reports alone take append/reports.sql.
--
-- $1  story_id         uuid
-- $2  expected         int, the version the story must be at; NULL: any
-- $3  event_ids        uuid[]         one element per event, in order
-- $4  types            text[]
-- $5  schema_versions  int[]
-- $6  payloads         jsonb[]
-- $7  occurred_at      timestamptz[]  NULL elements: when it is recorded
-- $8  metadata         jsonb, the same for every event
-- $9  token            bytea, digest of the caller's token, which must be live; NULL: trusted caller
-- $10 recorded_at      timestamptz[]  kept from an export (import --keep-recorded-at),
--                      one per event; NULL: the statement's time
-- $11 kept_metadata    jsonb[]        kept from an export, one per event; NULL: $8
--
-- Returns each event's position, version, occurred_at and recorded_at, or no
-- row when a check fails (see append/story_opened.sql for the checks).
INSERT INTO events (position, id, story_id, version, type, schema_version,
                    payload, metadata, occurred_at, recorded_at)
SELECT xact.base + e.ord - 1, e.id, $1, coalesce(head.version, 0) + e.ord::int,
       e.type, e.schema_version, e.payload, coalesce(e.metadata, $8),
       coalesce(e.occurred_at, e.recorded_at, now_.recorded_at),
       coalesce(e.recorded_at, now_.recorded_at)
FROM (SELECT (pg_current_xact_id()::text::bigint + storyline_position_offset()) << 16 AS base) AS xact
LEFT JOIN LATERAL (
    SELECT version, recorded_at, position
    FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1
) AS head ON true
CROSS JOIN LATERAL (
    SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
) AS now_
CROSS JOIN unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::timestamptz[],
                  coalesce($10::timestamptz[], array_fill(NULL::timestamptz, ARRAY[cardinality($3)])),
                  coalesce($11::jsonb[], array_fill(NULL::jsonb, ARRAY[cardinality($3)])))
    WITH ORDINALITY AS e(id, type, schema_version, payload, occurred_at, recorded_at, metadata, ord)
WHERE ($2::int IS NULL OR coalesce(head.version, 0) = $2)
  AND xact.base > coalesce(head.position, 0)
  AND ($9::bytea IS NULL OR (SELECT revoked_at IS NULL FROM tokens WHERE hash = $9))
RETURNING position, version, occurred_at, recorded_at
