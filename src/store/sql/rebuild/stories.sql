-- Rebuild: a story row per StoryOpened event, at its story's latest
-- version, status and visibility. The rebuild statements do for the whole
-- table at once what the append statements do one event at a time; the
-- property test and `verify` hold both forms to the fold. Payloads are read
-- as stored: a future schema version must upcast here too. The latest
-- status and visibility changes are found among those events alone (an
-- index on type): looking for them story by story read every event of a
-- story that had none.
WITH changes AS (
    SELECT DISTINCT ON (story_id, type) story_id, type, payload
    FROM events WHERE type IN ('StoryStatusChanged', 'StoryVisibilityChanged')
    ORDER BY story_id, type, version DESC
)
INSERT INTO stories (story_id, slug, title, summary, topics, status, version,
                     created_at, updated_at, visibility, embargo_until)
SELECT o.story_id, o.payload ->> 'slug', o.payload ->> 'title', o.payload ->> 'summary',
       coalesce(o.payload -> 'topics', '[]'::jsonb),
       coalesce(st.payload ->> 'status', 'DEVELOPING'),
       last.version, o.recorded_at, last.recorded_at,
       -- Visibility and embargo as the latest event that set them left them.
       coalesce(coalesce(vis.payload, o.payload) ->> 'visibility', 'PUBLIC'),
       (coalesce(vis.payload, o.payload) ->> 'embargoUntil')::timestamptz
FROM events o
CROSS JOIN LATERAL (
    SELECT version, recorded_at FROM events e
    WHERE e.story_id = o.story_id ORDER BY version DESC LIMIT 1
) AS last
LEFT JOIN changes st ON st.story_id = o.story_id AND st.type = 'StoryStatusChanged'
LEFT JOIN changes vis ON vis.story_id = o.story_id AND vis.type = 'StoryVisibilityChanged'
WHERE o.type = 'StoryOpened'
