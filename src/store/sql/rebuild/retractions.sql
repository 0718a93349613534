-- Rebuild, fourth stage: retracted developments marked with their reason.
UPDATE story_developments d
SET retracted_in_version = e.version, retraction_reason = e.payload ->> 'reason'
FROM events e
WHERE e.type = 'DevelopmentRetracted' AND d.story_id = e.story_id
  AND d.development_id = (e.payload ->> 'developmentId')::uuid
