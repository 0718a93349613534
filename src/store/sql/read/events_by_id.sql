-- The stored events among some ids, in position order.
--
-- $1  event_ids  uuid[]
SELECT position, id, story_id, version, type AS event_type, schema_version,
       payload::text AS payload, metadata, occurred_at, recorded_at
FROM events
WHERE id = ANY($1)
ORDER BY position
