-- A page of the story list, most recently updated first, with a status or
-- a cursor, of the stories that have a document matching one query (a
-- search, or an actor).
-- A search box and an actor filter each match documents of the search
-- model (story_search: the story's own, or a live development's); each has a
-- statement of its own rather than a condition kept for an absent filter
-- ($n IS NULL OR ...), which leaves a prepared statement's generic plan unable
-- to use the search index (it scanned every document of every story: 170 ms
-- a search at 48k documents).
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
-- $5  query           text, a tsquery
-- $6  public_only  boolean; true: only stories readable without a token
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $5::tsquery)
      OFFSET 0) AS s
WHERE ($1::text IS NULL OR s.status = $1)
  AND ($2::timestamptz IS NULL OR (s.updated_at, s.story_id) < ($2, $3))
  AND (NOT $6 OR storyline_is_public(s.visibility, s.embargo_until))
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $4
