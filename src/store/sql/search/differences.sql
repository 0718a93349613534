-- Where a story's stored search documents differ from the expected ones:
-- (expected id, stored id) per document missing (stored NULL), unexpected
-- (expected NULL) or different (both).
--
-- $1  story_id         uuid
-- $2  development_ids  uuid[]   of the expected documents; the nil uuid for the story's own
-- $3  searches         text[]   the expected documents (tsvector)
SELECT e.development_id, s.development_id
FROM unnest($2::uuid[], $3::text[]) AS e(development_id, search)
FULL JOIN (SELECT development_id, search FROM story_search WHERE story_id = $1) AS s
    ON s.development_id = e.development_id
WHERE s.search IS DISTINCT FROM e.search::tsvector
