-- The search documents' words in two GIN indexes, each over half of the
-- documents, where there was one over all: PostgreSQL 15 builds a GIN index
-- in one process, and it was the last, longest step of a rebuild (6.7 s of
-- 18 at 1.5 M events, one core idle); two halves build at once in 3.3 s.
--
-- Halves of one table rather than two partitions: a story's search probes
-- its documents through the table's key, one index scan, where partitions
-- made two and the planner then read every document instead (a word in
-- every development: 7 ms -> 20 ms at 10 M events). The planner reads both
-- halves' indexes (a BitmapOr) only where a query names both predicates:
-- the searches add `(d.shard = 0 OR d.shard = 1)`, true of every row.
--
-- The half is a random bit of the development's id (UUIDv7 ends in random
-- bits): an even split whatever the stories. Stored, for the planner's
-- statistics of it.
ALTER TABLE story_search
    ADD COLUMN shard smallint NOT NULL
        GENERATED ALWAYS AS ((get_byte(uuid_send(development_id), 15) & 1)::smallint) STORED;
CREATE INDEX story_search_search_shard0_idx ON story_search USING gin (search)
    WITH (gin_pending_list_limit = 256) WHERE shard = 0;
CREATE INDEX story_search_search_shard1_idx ON story_search USING gin (search)
    WITH (gin_pending_list_limit = 256) WHERE shard = 1;
DROP INDEX story_search_search_idx;
ANALYZE story_search;
