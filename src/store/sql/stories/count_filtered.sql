-- How many stories have a status.
--
-- $1  status  text
SELECT count(*) FROM stories s
WHERE s.status = $1
