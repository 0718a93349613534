-- Stores analysed search documents: rows of a binary COPY (the story, the
-- development or the nil uuid for a story's own document, the tsvector),
-- written by store/search.rs.
COPY story_search (story_id, development_id, search) FROM STDIN (FORMAT binary)
