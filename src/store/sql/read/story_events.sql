-- A story's events with from <= version <= to, in version order.
--
-- $1  story_id  uuid
-- $2  from      int
-- $3  to        int
SELECT position, id, story_id, version, type AS event_type, schema_version,
       payload::text AS payload, metadata, occurred_at, recorded_at
FROM events
WHERE story_id = $1 AND version >= $2 AND version <= $3
ORDER BY version
