-- The next chunk of search/declare_sources.sql's cursor: small enough to
-- keep memory flat, large enough that a round trip is nothing beside it.
FETCH 5000 FROM search_sources
