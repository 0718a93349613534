-- The oldest transaction id still running in the cluster (or the next one
-- to be assigned, when none is running).
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
