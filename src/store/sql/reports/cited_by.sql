-- The live developments whose sources cite a report.
--
-- $1  report_id  uuid
SELECT d.story_id, d.development_id, d.reported_in_version
FROM story_developments d
WHERE d.retracted_in_version IS NULL
  AND d.payload -> 'sources' @> jsonb_build_array(jsonb_build_object('reportId', $1::text))
ORDER BY d.story_id, d.reported_in_version
