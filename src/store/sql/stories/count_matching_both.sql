-- How many stories have a document matching the search and one matching
-- the actor. With a status, stories/count_filtered_matching_both.sql.
--
-- $1  search  text, a tsquery
-- $2  actor   text, a tsquery
-- $3  public_only  boolean; true: only stories readable without a token
SELECT count(*) FROM stories s
WHERE EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $1::tsquery)
  AND EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
  AND (NOT $3 OR storyline_is_public(s.visibility, s.embargo_until))
