-- A page of the story list, most recently updated first, with a status or
-- a cursor, of the stories that have a document matching the search and
-- one matching the actor (one document may match both). See
-- stories/list_filtered_matching.sql.
--
-- The word matches are planned apart from the other filters (OFFSET 0 keeps
-- the subquery whole): a filter kept for an absent status or cursor ($n IS
-- NULL OR ...) shrinks the planner's estimate of the stories left, and it
-- then probes the search index story by story instead of once (11 ms
-- instead of 0.5 ms for one match among 32k documents).
--
-- $1  status          text; NULL: any
-- $2  before_updated  timestamptz, with before_id the place in the list to go on
--                     from (exclusive); NULL: from the top
-- $3  before_id       uuid
-- $4  limit           bigint
-- $5  search          text, a tsquery
-- $6  actor           text, a tsquery
-- $7  public_only  boolean; true: only stories readable without a token
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $5::tsquery)
        AND EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $6::tsquery)
      OFFSET 0) AS s
WHERE ($1::text IS NULL OR s.status = $1)
  AND ($2::timestamptz IS NULL OR (s.updated_at, s.story_id) < ($2, $3))
  AND (NOT $7 OR storyline_is_public(s.visibility, s.embargo_until))
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $4
