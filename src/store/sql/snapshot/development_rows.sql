-- The development rows of some stories, corrections merged in, retracted
-- ones included. The payload comes as text, to be parsed straight into its
-- type.
--
-- $1  story_ids  uuid[]
SELECT story_id, development_id, payload::text AS payload, occurred_at,
       reported_in_version, corrected_in_versions, retracted_in_version, retraction_reason,
       reported_at, verifications::text AS verifications
FROM story_developments WHERE story_id = ANY($1)
