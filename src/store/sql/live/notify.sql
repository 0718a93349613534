-- Wakes live readers of every process: one notification per story that
-- moved. Only a wake-up, never the data: readers re-read the feed.
--
-- $1  channel    text
-- $2  story_ids  text[]
SELECT pg_notify($1, story) FROM unnest($2::text[]) AS story
