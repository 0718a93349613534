-- The first transaction id not yet assigned when this statement began:
-- every transaction begun before it is below it.
SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint
