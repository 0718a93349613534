-- Rebuild, third stage: every development's corrections merged into its
-- row. Several corrections of one development merge into one patch, the
-- latest value of each field winning, which is what applying them in order
-- does.
WITH corrections AS (
    SELECT story_id, (payload ->> 'developmentId')::uuid AS development_id, version,
           payload -> 'changes' AS changes
    FROM events WHERE type = 'DevelopmentCorrected'
), merged AS (
    SELECT c.story_id, c.development_id,
           coalesce(jsonb_object_agg(field.key, field.value ORDER BY c.version)
                        FILTER (WHERE field.key IS NOT NULL), '{}'::jsonb) AS changes,
           array_agg(DISTINCT c.version ORDER BY c.version) AS versions
    FROM corrections c LEFT JOIN LATERAL jsonb_each(c.changes) AS field ON true
    GROUP BY c.story_id, c.development_id
)
UPDATE story_developments d
SET payload = d.payload || m.changes,
    occurred_at = coalesce((m.changes ->> 'occurredAt')::timestamptz, d.occurred_at),
    corrected_in_versions = m.versions
FROM merged m
WHERE d.story_id = m.story_id AND d.development_id = m.development_id
