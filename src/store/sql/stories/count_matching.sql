-- How many stories have a document matching one query (a search, or an
-- actor). See stories/list_matching.sql.
--
-- $1  status  text; NULL: any
-- $2  query   text, a tsquery
SELECT count(*) FROM stories s
WHERE ($1::text IS NULL OR s.status = $1)
  AND EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $2::tsquery)
