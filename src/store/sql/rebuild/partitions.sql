-- The partitions of a fresh table, each indexed on a connection of its
-- own (rebuild/index.sql); none when the table is not partitioned.
--
-- $1  fresh  text, the table's name in the schema storyline_rebuild
SELECT c.relname::text
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = format('storyline_rebuild.%I', $1::text)::regclass
ORDER BY c.relname
