-- Rebuild: a development row per DevelopmentReported event, as its later
-- events leave it (the view of rebuild/prepare.sql).
INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                reported_in_version, corrected_in_versions,
                                retracted_in_version, retraction_reason, reported_at,
                                verifications)
SELECT story_id, development_id, payload, occurred_at, reported_in_version,
       corrected_in_versions, retracted_in_version, retraction_reason, reported_at,
       verifications
FROM developments_of_events
