-- Rebuild, second stage: a development row per DevelopmentReported event.
INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                reported_in_version)
SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
       (payload ->> 'occurredAt')::timestamptz, version
FROM events WHERE type = 'DevelopmentReported'
