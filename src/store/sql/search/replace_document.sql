-- Stores a development's search document, replacing the one it had.
--
-- $1  story_id        uuid
-- $2  development_id  uuid
-- $3  search          text, the document (tsvector)
INSERT INTO story_search (story_id, development_id, search)
VALUES ($1, $2, $3::tsvector)
ON CONFLICT (story_id, development_id) DO UPDATE SET search = EXCLUDED.search
