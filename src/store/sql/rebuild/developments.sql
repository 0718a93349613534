-- Rebuild, second stage: a development row per DevelopmentReported event.
INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                reported_in_version, reported_at, verifications)
SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
       (payload ->> 'occurredAt')::timestamptz, version, recorded_at,
       storyline_reported_verdicts(payload, version, recorded_at)
FROM events WHERE type = 'DevelopmentReported'
