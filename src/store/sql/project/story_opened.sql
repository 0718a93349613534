-- The snapshot row and search document of a StoryOpened event appended by
-- append/several.sql, inside its transaction.
--
-- $1  story_id     uuid
-- $2  version      int, the event's
-- $3  type         text
-- $4  payload      jsonb
-- $5  occurred_at  timestamptz
-- $6  recorded_at  timestamptz
-- $7  search       text, the story's search document (tsvector)
--
-- Returns the number of snapshot rows written: 1, or 0 when a rule of the
-- fold is broken (the caller then rolls back).
WITH ins AS (
    SELECT $1::uuid AS story_id, $2::int AS version, $3::text AS type,
           $4::jsonb AS payload, $5::timestamptz AS occurred_at,
           $6::timestamptz AS recorded_at
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
    INSERT INTO story_search (story_id, development_id, search)
    SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, $7::tsvector FROM ins
)
SELECT count(*) FROM projected
