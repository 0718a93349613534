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
