-- Begins a rebuild worker's transaction: the schema storyline_rebuild
-- first on its search path, so that the rebuild statements, which name
-- their tables unqualified, write the fresh tables while `events` still
-- resolves to the live one. Keeps the live tables' schema in
-- storyline.rebuild_home, and for rebuild/index.sql the fresh tables this
-- worker indexes in storyline.rebuild_tables and with which access methods
-- in storyline.rebuild_methods.
--
-- $1  tables   text, comma-separated names of fresh tables
-- $2  methods  text, comma-separated index access methods (btree, gin)
SELECT set_config('storyline.rebuild_home', home, true),
       set_config('search_path', format('storyline_rebuild, %I', home), true),
       set_config('storyline.rebuild_tables', $1, true),
       set_config('storyline.rebuild_methods', $2, true)
FROM (SELECT current_schema() AS home) AS live
