-- The first page of the story list, most recently updated first, of the
-- stories that have a document matching the search and one matching the
-- actor (one document may match both). With a status or a cursor,
-- stories/list_filtered_matching_both.sql.
--
-- The word matches are planned apart from the visibility rule (OFFSET 0
-- keeps the subquery whole): kept in the same WHERE, the rule's generic
-- estimate made the planner probe the search index story by story
-- (stories(search: "Kirby") fell from 3,589 to 529 req/s in the API bench).
--
-- $1  limit   bigint
-- $2  search  text, a tsquery
-- $3  actor   text, a tsquery
-- $4  public_only  boolean; true: only stories readable without a token
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until
FROM (SELECT * FROM stories s
      WHERE EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
        AND EXISTS (SELECT 1 FROM story_search d
                    WHERE d.story_id = s.story_id AND d.search @@ $3::tsquery)
      OFFSET 0) AS s
WHERE NOT $4 OR storyline_is_public(s.visibility, s.embargo_until)
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $1
