-- A page of a story's history: the last events (by version) strictly
-- between two versions that the filter keeps.
--
-- $1  story_id       uuid
-- $2  types          text[]; NULL: every type
-- $3  occurred_from  timestamptz, inclusive; NULL: no bound
-- $4  occurred_to    timestamptz, inclusive; NULL: no bound
-- $5  after          int, a version (0: from the start)
-- $6  before         int, a version
-- $7  limit          bigint
SELECT position, id, story_id, version, type AS event_type, schema_version,
       payload::text AS payload, metadata, occurred_at, recorded_at
FROM events
WHERE story_id = $1
  AND ($2::text[] IS NULL OR type = ANY($2))
  AND ($3::timestamptz IS NULL OR occurred_at >= $3)
  AND ($4::timestamptz IS NULL OR occurred_at <= $4)
  AND version > $5 AND version < $6
ORDER BY version DESC
LIMIT $7
