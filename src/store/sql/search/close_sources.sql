-- Closes search/declare_sources.sql's cursor.
CLOSE search_sources
