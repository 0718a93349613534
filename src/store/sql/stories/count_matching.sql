-- How many stories have a document matching one query (a search, or an
-- actor). With a status, stories/count_filtered_matching.sql.
--
-- $1  query  text, a tsquery
-- $2  public_only  boolean; true: only stories readable without a token
SELECT count(*) FROM stories s
WHERE EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $1::tsquery)
  AND (NOT $2 OR storyline_is_public(s.visibility, s.embargo_until))
