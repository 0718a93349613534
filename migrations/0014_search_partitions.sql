-- The search documents in two partitions by development, so that a rebuild
-- builds their GIN indexes on two connections at once: one GIN build is a
-- single process in PostgreSQL 15, and it was the rebuild's last three to
-- four seconds with the other core idle (1.52 M events). Built alone, the
-- index took 6.7 s; the two halves at once 3.2 s (four quarters 3.8 s, on
-- two cores). By development, not by story: a story holds up to 50,000
-- developments, and by story the halves came out uneven. A story's own
-- document (the nil development id) lands in one partition like any other.
-- The rebuild (store/sql/rebuild/) reads the partitions from the catalog.
ALTER TABLE story_search RENAME TO story_search_unpartitioned;
ALTER TABLE story_search_unpartitioned
    RENAME CONSTRAINT story_search_pkey TO story_search_unpartitioned_pkey;
ALTER INDEX story_search_search_idx RENAME TO story_search_unpartitioned_search_idx;

CREATE TABLE story_search (
    story_id       uuid     NOT NULL,
    development_id uuid     NOT NULL,
    -- Headline, summary, place, actor names, quotes and tags.
    search         tsvector NOT NULL,
    CONSTRAINT story_search_pkey PRIMARY KEY (story_id, development_id)
) PARTITION BY HASH (development_id);
CREATE TABLE story_search_0 PARTITION OF story_search
    FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE story_search_1 PARTITION OF story_search
    FOR VALUES WITH (MODULUS 2, REMAINDER 1);

INSERT INTO story_search (story_id, development_id, search)
SELECT story_id, development_id, search FROM story_search_unpartitioned;
DROP TABLE story_search_unpartitioned;

-- As 0006 set it, for the reason given there.
CREATE INDEX story_search_search_idx ON story_search USING gin (search)
    WITH (gin_pending_list_limit = 256);
ANALYZE story_search;
