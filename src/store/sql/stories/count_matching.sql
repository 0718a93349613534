-- How many stories have a document matching one query (a search, or an
-- actor). With a status, stories/count_filtered_matching.sql.
--
-- The word matches are planned apart from the visibility rule (OFFSET 0
-- keeps the subquery whole): kept in the same WHERE, the rule's generic
-- estimate made the planner probe the search index story by story
-- (stories(search: "Kirby") fell from 3,589 to 529 req/s in the API bench).
--
-- $1  query  text, a tsquery
-- $2  public_only  boolean; true: only stories readable without a token
SELECT count(*)
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $1::tsquery)
      OFFSET 0) AS s
WHERE NOT $2 OR storyline_is_public(s.visibility, s.embargo_until)
