-- How many stories have a document matching one query (a search, or an
-- actor). With a status, stories/count_filtered_matching.sql.
--
-- $1  query  text, a tsquery
SELECT count(*) FROM stories s
WHERE EXISTS (SELECT 1 FROM story_search d
              WHERE d.story_id = s.story_id AND d.search @@ $1::tsquery)
