-- Stores analysed search documents.
--
-- $1  story_ids        uuid[]   one element per document
-- $2  development_ids  uuid[]   the nil uuid for a story's own document
-- $3  searches         text[]   the documents (tsvector)
INSERT INTO story_search (story_id, development_id, search)
SELECT story_id, development_id, search::tsvector
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS d(story_id, development_id, search)
