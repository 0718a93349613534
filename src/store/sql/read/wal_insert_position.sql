-- The primary's WAL insert position now: read after a commit, a replica
-- that has replayed it sees that commit (DESIGN §13).
SELECT pg_current_wal_insert_lsn()::text
