-- A cursor over what every search document is made of: each live
-- development's searched fields and each story's title and summary (under
-- the nil development id), each as JSON text (domain::search::
-- SearchedFields), as story_developments and stories resolve on the search
-- path. Inside a transaction.
DECLARE search_sources NO SCROLL CURSOR FOR
SELECT story_id, development_id,
       (payload -> 'headline')::text AS headline, (payload -> 'summary')::text AS summary,
       (payload -> 'location')::text AS location, (payload -> 'actors')::text AS actors,
       (payload -> 'quotes')::text AS quotes, (payload -> 'tags')::text AS tags
FROM story_developments WHERE retracted_in_version IS NULL
UNION ALL
SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, to_jsonb(title)::text,
       to_jsonb(summary)::text, NULL, NULL, NULL, NULL
FROM stories
