-- A cursor over what every search document is made of, read from the
-- events as a rebuild fills story_search beside the other fresh tables
-- (which it cannot see yet): each live development's searched fields, as
-- rebuild/prepare.sql's view merges it, and each story's title and summary
-- (under the nil development id). The columns of search/declare_sources.sql.
-- Only the searched fields are written out: the whole payload as text, and
-- parsing it, cost more than half of this worker's time. Each is read from
-- the correction's changes or else the report (the view's merged payload
-- would be merged anew for each of the six).
DECLARE search_sources NO SCROLL CURSOR FOR
SELECT story_id, development_id,
       coalesce(changes -> 'headline', reported -> 'headline')::text AS headline,
       coalesce(changes -> 'summary', reported -> 'summary')::text AS summary,
       coalesce(changes -> 'location', reported -> 'location')::text AS location,
       coalesce(changes -> 'actors', reported -> 'actors')::text AS actors,
       coalesce(changes -> 'quotes', reported -> 'quotes')::text AS quotes,
       coalesce(changes -> 'tags', reported -> 'tags')::text AS tags
FROM developments_of_events WHERE retracted_in_version IS NULL
UNION ALL
SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, (payload -> 'title')::text,
       (payload -> 'summary')::text, NULL, NULL, NULL, NULL
FROM events WHERE type = 'StoryOpened'
