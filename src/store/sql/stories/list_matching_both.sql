-- A page of the story list, most recently updated first, of the stories
-- that have a document matching the search and one matching the actor (one
-- document may match both). See stories/list_matching.sql.
--
-- $1  status          text; NULL: any
-- $2  before_updated  timestamptz, with before_id the place in the list to go on
--                     from (exclusive); NULL: from the top
-- $3  before_id       uuid
-- $4  limit           bigint
-- $5  search          text, a tsquery
-- $6  actor           text, a tsquery
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at
FROM stories s
WHERE ($1::text IS NULL OR s.status = $1)
  AND ($2::timestamptz IS NULL OR (s.updated_at, s.story_id) < ($2, $3))
  AND EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $5::tsquery)
  AND EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $6::tsquery)
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $4
