-- Rebuild, first stage: a story row per StoryOpened event, at its story's
-- latest version, status and visibility. The rebuild stages do for the whole table at
-- once what the append statements do one event at a time; the property test
-- and `verify` hold both forms to the fold. Payloads are read as stored: a
-- future schema version must upcast here too.
INSERT INTO stories (story_id, slug, title, summary, topics, status, version,
                     created_at, updated_at, visibility, embargo_until)
SELECT o.story_id, o.payload ->> 'slug', o.payload ->> 'title', o.payload ->> 'summary',
       coalesce(o.payload -> 'topics', '[]'::jsonb), coalesce(st.status, 'DEVELOPING'),
       last.version, o.recorded_at, last.recorded_at,
       coalesce(vis.payload ->> 'visibility', 'PUBLIC'),
       (vis.payload ->> 'embargoUntil')::timestamptz
FROM events o
CROSS JOIN LATERAL (
    SELECT version, recorded_at FROM events e
    WHERE e.story_id = o.story_id ORDER BY version DESC LIMIT 1
) AS last
LEFT JOIN LATERAL (
    SELECT payload ->> 'status' AS status FROM events e
    WHERE e.story_id = o.story_id AND e.type = 'StoryStatusChanged'
    ORDER BY version DESC LIMIT 1
) AS st ON true
-- Visibility and embargo as the latest event that set them left them.
CROSS JOIN LATERAL (
    SELECT payload FROM events e
    WHERE e.story_id = o.story_id AND e.type IN ('StoryOpened', 'StoryVisibilityChanged')
    ORDER BY version DESC LIMIT 1
) AS vis
WHERE o.type = 'StoryOpened'
