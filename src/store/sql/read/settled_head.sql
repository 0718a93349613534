-- The last position a feed reader can have settled now: every event at or
-- below it is committed or will never be, every later one is yet to settle.
SELECT ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + storyline_position_offset()) << 16) - 1
