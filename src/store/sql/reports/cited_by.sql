-- The live developments whose sources cite a report, with their stories'
-- headers.
--
-- $1  report_id  uuid
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until, d.development_id, d.reported_in_version
FROM story_developments d
JOIN stories s ON s.story_id = d.story_id
WHERE d.retracted_in_version IS NULL
  AND d.payload -> 'sources' @> jsonb_build_array(jsonb_build_object('reportId', $1::text))
ORDER BY s.story_id, d.reported_in_version
