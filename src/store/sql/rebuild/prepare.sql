-- Fresh, empty snapshot tables in the schema storyline_rebuild, shaped as
-- the live ones but without their indexes: building an index over a full
-- table is several times cheaper than updating it row by row. Then the
-- rebuild schema goes first on the transaction's search path, so that the
-- rebuild statements, which name their tables unqualified, write the fresh
-- tables while `events` still resolves to the live one. The live tables'
-- schema is kept in storyline.rebuild_home for the later steps.
-- Run by the simple protocol, inside the rebuild's transaction.
DO $rebuild$
DECLARE
    home text := current_schema();
    options text[];
BEGIN
    PERFORM set_config('storyline.rebuild_home', home, true);
    DROP SCHEMA IF EXISTS storyline_rebuild CASCADE;
    CREATE SCHEMA storyline_rebuild;
    CREATE TABLE storyline_rebuild.stories
        (LIKE stories INCLUDING ALL EXCLUDING INDEXES);
    CREATE TABLE storyline_rebuild.story_developments
        (LIKE story_developments INCLUDING ALL EXCLUDING INDEXES);
    CREATE TABLE storyline_rebuild.story_search
        (LIKE story_search INCLUDING ALL EXCLUDING INDEXES);
    -- LIKE copies columns and constraints but not storage options such as
    -- fillfactor.
    SELECT reloptions INTO options FROM pg_class WHERE oid = 'stories'::regclass;
    IF cardinality(options) > 0 THEN
        EXECUTE format('ALTER TABLE storyline_rebuild.stories SET (%s)',
                       array_to_string(options, ', '));
    END IF;
    PERFORM set_config('search_path', format('storyline_rebuild, %I', home), true);
END
$rebuild$
