-- Appends a StoryOpened event, with the story's snapshot row and its search
-- document, if the story has no event yet. One statement: the head read,
-- the checks and the inserts share one snapshot.
--
-- $1  story_id        uuid
-- $2  expected        int, the version the story must be at; NULL: any
-- $3  event_id        uuid
-- $4  type            text, 'StoryOpened'
-- $5  schema_version  int
-- $6  payload         jsonb
-- $7  occurred_at     timestamptz; NULL: when it is recorded
-- $8  metadata        jsonb
-- $9  token           bytea, digest of the caller's token, which must be live; NULL: trusted caller
-- $10 search          text, the story's search document (tsvector)
--
-- Returns the event's position, version, occurred_at and recorded_at, or no
-- row when a check fails. The position condition keeps a stream's positions
-- in version order: only a transaction whose id was taken before it read the
-- head could break it, and it is refused. A used event id is left to the
-- unique index: checking first would cost every append an index probe to
-- spare the rare retry an aborted insert.
WITH ins AS (
    INSERT INTO events (position, id, story_id, version, type, schema_version,
                        payload, metadata, occurred_at, recorded_at)
    SELECT xact.base, $3, $1, coalesce(head.version, 0) + 1, $4, $5, $6, $8,
           coalesce($7, now_.recorded_at), now_.recorded_at
    FROM (SELECT (pg_current_xact_id()::text::bigint + storyline_position_offset()) << 16 AS base) AS xact
    LEFT JOIN LATERAL (
        SELECT version, recorded_at, position
        FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1
    ) AS head ON true
    -- The recorded time never goes back within a story, even if the clock does.
    CROSS JOIN LATERAL (
        SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
    ) AS now_
    WHERE ($2::int IS NULL OR coalesce(head.version, 0) = $2)
      AND xact.base > coalesce(head.position, 0)
      AND ($9::bytea IS NULL OR (SELECT revoked_at IS NULL FROM tokens WHERE hash = $9))
      AND head.version IS NULL
    RETURNING story_id, version, type, payload, position, occurred_at, recorded_at
), projected AS (
    INSERT INTO stories (story_id, slug, title, summary, topics, status, version,
                         created_at, updated_at, visibility, embargo_until)
    SELECT story_id, payload ->> 'slug', payload ->> 'title', payload ->> 'summary',
           coalesce(payload -> 'topics', '[]'::jsonb), 'DEVELOPING', version,
           recorded_at, recorded_at, coalesce(payload ->> 'visibility', 'PUBLIC'),
           (payload ->> 'embargoUntil')::timestamptz
    FROM ins
    RETURNING 1
), searched AS (
    -- A story's own document is kept under the nil development id.
    INSERT INTO story_search (story_id, development_id, search)
    SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, $10::tsvector FROM ins
)
SELECT position, version, occurred_at, recorded_at FROM ins
