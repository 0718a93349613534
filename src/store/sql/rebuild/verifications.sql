-- Rebuild, fourth stage: every development's verdicts after the one its
-- report gave, oldest first, as the append statements add them one at a time.
WITH verdicts AS (
    SELECT story_id, (payload ->> 'developmentId')::uuid AS development_id,
           jsonb_agg(storyline_verdict(payload, version, recorded_at) ORDER BY version)
               AS verdicts
    FROM events WHERE type = 'DevelopmentVerificationChanged'
    GROUP BY story_id, (payload ->> 'developmentId')::uuid
)
UPDATE story_developments d
SET verifications = d.verifications || v.verdicts
FROM verdicts v
WHERE d.story_id = v.story_id AND d.development_id = v.development_id
