-- The story list (newest update first) read in that order from an index,
-- where it sorted every story: a page of a search for a word in most
-- documents probed every story's documents before sorting the ones that
-- matched (1.6, 3.5 and 16.4 ms for 145, 535 and 1,769 stories at 1, 3
-- and 10 M events), and the plain list read every story's row. Walked
-- backwards, this index stops a page at its last match: 0.45–0.76 ms at
-- 1,769 stories.
--
-- An append's update of its story row changes `updated_at`, so it is no
-- longer HOT (migrations/0003): it adds an entry to each of the table's
-- indexes. The slug's unique index goes to keep those two, not three:
-- events_story_slug_key (migrations/0002) already holds each slug once,
-- and a lookup by slug goes through it (stories/header_by_slug.sql).
-- Appends measured with and without (README, Benchmarks): within the
-- benches' run-to-run spread.
ALTER TABLE stories DROP CONSTRAINT stories_slug_key;
CREATE INDEX stories_updated_at_idx ON stories (updated_at, story_id);
