-- What a replay needs of a story's events after a version, recorded by a
-- cut, in version order; the payload as text, parsed straight into the
-- event types.
--
-- $1  story_id     uuid
-- $2  after        int, a version
-- $3  recorded_by  timestamptz, inclusive
SELECT version, recorded_at, type AS event_type, schema_version, payload::text AS payload
FROM events
WHERE story_id = $1 AND version > $2 AND recorded_at <= $3
ORDER BY version
