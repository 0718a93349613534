-- Raises the position offset when the stored positions lie ahead of this
-- cluster's transaction ids (the database was restored into another
-- cluster), so that every position made from now on is above every stored
-- one. Does nothing otherwise; two processes migrating at once take turns
-- on the row. See migrations/0009_position_offset.sql.
--
-- Returns the new offset, or no row when it stood.
UPDATE position_base
SET position_offset = stored.xid - pg_current_xact_id()::text::bigint + 1
FROM (SELECT coalesce(max(position), 0) >> 16 AS xid FROM events) AS stored
WHERE stored.xid >= pg_current_xact_id()::text::bigint + position_offset
RETURNING position_offset
