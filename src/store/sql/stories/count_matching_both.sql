-- How many stories have a document matching the search and one matching
-- the actor. With a status, stories/count_filtered_matching_both.sql.
--
-- $1  search  text, a tsquery
-- $2  actor   text, a tsquery
SELECT count(*) FROM stories s
WHERE EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $1::tsquery)
  AND EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
