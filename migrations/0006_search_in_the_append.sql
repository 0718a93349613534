-- The search documents join the story snapshot projection: the statement
-- that appends an event writes its search row too, in the same
-- transaction (read-your-writes, DESIGN §3), so the projector of 0005 and
-- its checkpoint go.
--
-- The words are analysed by the application (src/domain/search.rs), which
-- sends a ready tsvector: computing it with to_tsvector inside the append
-- was what cost a third of batched append throughput. Queries are built by
-- the same code, so documents and queries always agree.
--
-- One row per document: each live development, and the story's own title
-- and summary under the nil development id. A development's actors are
-- lexemes of its document too ('actor:' and the lower-cased name), so one
-- GIN index answers both `search` and `actor`.
DROP TABLE projector_checkpoints;
-- The GIN index keeps new entries in a pending list that every search
-- scans whole until it is merged (at gin_pending_list_limit, or by vacuum):
-- at the default 4 MB a one-match search took 1.7 ms instead of 0.15.
-- 256 kB bounds that scan at no measured cost to appends (pgbench, 8
-- clients inserting documents: 11,400 tps either way).
ALTER INDEX story_search_search_idx SET (gin_pending_list_limit = 256);
DROP INDEX stories_search_idx;
DROP INDEX story_search_actor_names_idx;
ALTER TABLE story_search DROP COLUMN actor_names;
-- Rows made by to_tsvector would not match the application's queries; the
-- store recomputes every document when the analyzer version below is not
-- its own (on migrate), which for existing data is now.
TRUNCATE story_search;

-- Which analysis (domain::search::ANALYZER_VERSION) made the stored
-- documents. 0: none that the application can trust.
CREATE TABLE search_analyzer (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   integer NOT NULL
);
INSERT INTO search_analyzer (version)
SELECT CASE WHEN EXISTS (SELECT 1 FROM stories) THEN 0 ELSE 1 END;
