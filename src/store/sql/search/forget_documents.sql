-- Empties the search model before it is filled anew. Appends wait until
-- the transaction ends.
TRUNCATE story_search
