-- Which ids of a refused append are stored already, each with whether the
-- stored event is the same (story, type and payload): a retry of an earlier
-- call, or an id reused for other content.
--
-- $1  story_id   uuid
-- $2  event_ids  uuid[]   one element per event of the append
-- $3  types      text[]
-- $4  payloads   jsonb[]
SELECT e.id, (e.story_id = $1 AND e.type = i.type AND e.payload = i.payload)
FROM unnest($2::uuid[], $3::text[], $4::jsonb[]) AS i(id, type, payload)
JOIN events e ON e.id = i.id
