-- Gives each fresh table a worker filled (storyline.rebuild_tables) the keys
-- and indexes of its live one, then fresh planner statistics. Run by the
-- simple protocol, inside the worker's transaction (rebuild/enter.sql).
DO $rebuild$
DECLARE
    home text := current_setting('storyline.rebuild_home');
    fresh text;
    live regclass;
    k record;
BEGIN
    FOREACH fresh IN ARRAY string_to_array(current_setting('storyline.rebuild_tables'), ',') LOOP
        live := format('%I.%I', home, fresh)::regclass;
        FOR k IN SELECT conname::text AS name, pg_get_constraintdef(oid) AS definition
                 FROM pg_constraint WHERE conrelid = live AND contype IN ('p', 'u') LOOP
            EXECUTE format('ALTER TABLE storyline_rebuild.%I ADD CONSTRAINT %I %s',
                           fresh, k.name, k.definition);
        END LOOP;
        FOR k IN SELECT i.relname::text AS name, x.indisunique AS is_unique,
                        pg_get_indexdef(x.indexrelid) AS definition
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = live
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                   WHERE c.conindid = x.indexrelid) LOOP
            -- "CREATE INDEX name ON schema.table USING method (...)": keep
            -- what follows USING, aim the rest at the fresh table.
            IF strpos(k.definition, ' USING ') = 0 THEN
                RAISE EXCEPTION 'unexpected index definition %', k.definition;
            END IF;
            EXECUTE format('CREATE %sINDEX %I ON storyline_rebuild.%I USING %s',
                           CASE WHEN k.is_unique THEN 'UNIQUE ' ELSE '' END, k.name, fresh,
                           substr(k.definition, strpos(k.definition, ' USING ') + 7));
        END LOOP;
        -- Statistics of the columns the planner filters and joins on; a
        -- sample of JSON documents costs most of an ANALYZE and steers no plan.
        EXECUTE format('ANALYZE storyline_rebuild.%I (%s)', fresh,
                       (SELECT string_agg(quote_ident(attname), ', ')
                        FROM pg_attribute
                        WHERE attrelid = format('storyline_rebuild.%I', fresh)::regclass
                          AND attnum > 0 AND NOT attisdropped
                          AND atttypid NOT IN ('jsonb'::regtype, 'tsvector'::regtype)));
    END LOOP;
END
$rebuild$
