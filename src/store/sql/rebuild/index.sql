-- Gives each fresh table a worker filled (storyline.rebuild_tables) those
-- indexes of its live one that use the access methods it was given
-- (storyline.rebuild_methods), keys included, then fresh planner statistics
-- if it builds the btrees. Of those it builds its share
-- (storyline.rebuild_share, "k/n": the ones whose place in name order is k
-- modulo n), so that n workers build them at once, each once. Several
-- connections may index one table at once (CREATE INDEX locks share): one
-- its btrees, others its GIN indexes. A key is built as a unique index
-- first and attached after, for the same reason. Run by the simple
-- protocol, inside the worker's transaction (rebuild/enter.sql).
DO $rebuild$
DECLARE
    home text := current_setting('storyline.rebuild_home');
    methods text[] := string_to_array(current_setting('storyline.rebuild_methods'), ',');
    share int := split_part(current_setting('storyline.rebuild_share'), '/', 1)::int;
    shares int := split_part(current_setting('storyline.rebuild_share'), '/', 2)::int;
    fresh text;
    live regclass;
    k record;
BEGIN
    FOREACH fresh IN ARRAY string_to_array(current_setting('storyline.rebuild_tables'), ',') LOOP
        live := format('%I.%I', home, fresh)::regclass;
        FOR k IN SELECT i.relname::text AS name, x.indisunique AS is_unique,
                        pg_get_indexdef(x.indexrelid) AS definition,
                        c.conname::text AS key, c.contype AS key_type,
                        row_number() OVER (ORDER BY i.relname) - 1 AS place
                 FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_am m ON m.oid = i.relam
                 LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = live
                 WHERE x.indrelid = live AND m.amname = ANY (methods)
                 ORDER BY i.relname LOOP
            CONTINUE WHEN k.place % shares <> share;
            -- "CREATE INDEX name ON schema.table USING method (...)": keep
            -- what follows USING, aim the rest at the fresh table.
            IF strpos(k.definition, ' USING ') = 0 THEN
                RAISE EXCEPTION 'unexpected index definition %', k.definition;
            END IF;
            EXECUTE format('CREATE %sINDEX %I ON storyline_rebuild.%I USING %s',
                           CASE WHEN k.is_unique THEN 'UNIQUE ' ELSE '' END, k.name, fresh,
                           substr(k.definition, strpos(k.definition, ' USING ') + 7));
            IF k.key_type IN ('p', 'u') THEN
                EXECUTE format('ALTER TABLE storyline_rebuild.%I ADD CONSTRAINT %I %s USING INDEX %I',
                               fresh, k.key,
                               CASE k.key_type WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,
                               k.name);
            END IF;
        END LOOP;
        -- Statistics of the columns the planner filters and joins on; a
        -- sample of JSON documents costs most of an ANALYZE and steers no plan.
        -- The search documents' most common lexemes do: without them a word
        -- in every document is planned as a rare one, a bitmap of every
        -- document (224 ms instead of 3 ms at 1 M events).
        IF 'btree' = ANY (methods) THEN
            EXECUTE format('ANALYZE storyline_rebuild.%I (%s)', fresh,
                           (SELECT string_agg(quote_ident(attname), ', ')
                            FROM pg_attribute
                            WHERE attrelid = format('storyline_rebuild.%I', fresh)::regclass
                              AND attnum > 0 AND NOT attisdropped
                              AND atttypid <> 'jsonb'::regtype));
        END IF;
    END LOOP;
END
$rebuild$
