-- How many stories of a status have a document matching one query (a
-- search, or an actor).
--
-- The word matches are planned apart from the status (OFFSET 0 keeps the
-- subquery whole): the status shrinks the planner's estimate of the
-- stories left, and it then probes the search index story by story instead
-- of once (see stories/list_filtered_matching.sql).
--
-- $1  status  text
-- $2  query   text, a tsquery
-- $3  public_only  boolean; true: only stories readable without a token
SELECT count(*)
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
      OFFSET 0) AS s
WHERE s.status = $1
  AND (NOT $3 OR storyline_is_public(s.visibility, s.embargo_until))
