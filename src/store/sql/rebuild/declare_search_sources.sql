-- A cursor over what every search document is made of, read from the
-- events as a rebuild fills story_search beside the other fresh tables
-- (which it cannot see yet): each live development's payload (text) as
-- rebuild/prepare.sql's view merges it, and each story's title and summary
-- (under the nil development id). The columns of search/declare_sources.sql.
-- Fields the document never reads (domain::search) stay behind: writing
-- them as text, and parsing that text, was a fifth of the rebuild's work.
DECLARE search_sources NO SCROLL CURSOR FOR
SELECT story_id, development_id,
       (payload - ARRAY['figures', 'stances', 'sources', 'developmentId', 'occurredAt',
                        'precision', 'schemaVersion', 'verification'])::text AS text,
       NULL::text AS summary,
       false AS is_story
FROM developments_of_events WHERE retracted_in_version IS NULL
UNION ALL
SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, payload ->> 'title',
       payload ->> 'summary', true
FROM events WHERE type = 'StoryOpened'
