-- How many stories the list holds, without a word filter.
--
-- $1  status  text; NULL: any
SELECT count(*) FROM stories s
WHERE ($1::text IS NULL OR s.status = $1)
