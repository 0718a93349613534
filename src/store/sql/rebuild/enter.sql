-- Begins a rebuild worker's transaction: the schema storyline_rebuild
-- first on its search path, so that the rebuild statements, which name
-- their tables unqualified, write the fresh tables while `events` still
-- resolves to the live one. Keeps the live tables' schema in
-- storyline.rebuild_home, and for rebuild/index.sql the fresh tables this
-- worker indexes in storyline.rebuild_tables, with which access methods
-- in storyline.rebuild_methods and its share of them in
-- storyline.rebuild_share. 64 MB for a sort, whatever the
-- events' number (4 MB spilled the grouped corrections to disk; a larger
-- maintenance_work_mem made the GIN build slower, 4.9 s at 64 MB, 5.4 s at
-- 1 GB, so it stays). A hash may take four times that, 256 MB: at 10 M
-- events the corrections' hash spilled to disk at twice (4.3 GB of
-- temporary files a rebuild, 1.2 GB now, 152/144 s -> 147/139 s
-- alternating); sorts keep 64 MB (256 MB for them too was slower). No
-- JIT: compiling its large statements cost 0.45 s each and won nothing.
--
-- $1  tables   text, comma-separated names of fresh tables
-- $2  methods  text, comma-separated index access methods (btree, gin)
-- $3  share    text, "k/n": of the indexes selected, those whose place in
--              name order is k modulo n ("0/1": all)
SELECT set_config('storyline.rebuild_home', home, true),
       set_config('search_path', format('storyline_rebuild, %I', home), true),
       set_config('storyline.rebuild_tables', $1, true),
       set_config('storyline.rebuild_methods', $2, true),
       set_config('storyline.rebuild_share', $3, true),
       set_config('work_mem', '64MB', true),
       set_config('hash_mem_multiplier', '4', true),
       set_config('jit', 'off', true)
FROM (SELECT current_schema() AS home) AS live
