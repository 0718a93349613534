-- How many stories there are.
SELECT count(*) FROM stories
