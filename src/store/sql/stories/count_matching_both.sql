-- How many stories have a document matching the search and one matching
-- the actor. See stories/list_matching.sql.
--
-- The word matches are planned apart from the other filters (OFFSET 0 keeps
-- the subquery whole): a filter kept for an absent status or cursor ($n IS
-- NULL OR ...) shrinks the planner's estimate of the stories left, and it
-- then probes the search index story by story instead of once (11 ms
-- instead of 0.5 ms for one match among 32k documents).
--
-- $1  status  text; NULL: any
-- $2  search  text, a tsquery
-- $3  actor   text, a tsquery
SELECT count(*)
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
        AND EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $3::tsquery)
      OFFSET 0) AS s
WHERE ($1::text IS NULL OR s.status = $1)
