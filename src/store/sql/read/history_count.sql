-- How many of a story's events the history filter keeps.
--
-- $1  story_id       uuid
-- $2  types          text[]; NULL: every type
-- $3  occurred_from  timestamptz, inclusive; NULL: no bound
-- $4  occurred_to    timestamptz, inclusive; NULL: no bound
SELECT count(*)
FROM events
WHERE story_id = $1
  AND ($2::text[] IS NULL OR type = ANY($2))
  AND ($3::timestamptz IS NULL OR occurred_at >= $3)
  AND ($4::timestamptz IS NULL OR occurred_at <= $4)
