-- A cursor over what every search document is made of: each live
-- development's payload (text) and each story's title and summary (under
-- the nil development id), as story_developments and stories resolve on the
-- search path (a rebuild reads its fresh tables). Inside a transaction.
DECLARE search_sources NO SCROLL CURSOR FOR
SELECT story_id, development_id, payload::text AS text, NULL::text AS summary,
       false AS is_story
FROM story_developments WHERE retracted_in_version IS NULL
UNION ALL
SELECT story_id, '00000000-0000-0000-0000-000000000000'::uuid, title, summary, true
FROM stories
