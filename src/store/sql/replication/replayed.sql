-- Where a standby stands: the WAL position it has replayed (NULL on a
-- primary) and the seconds since the last commit it replayed (NULL before
-- its first). Run outside any transaction, so each call sees the replay
-- as it is now (DESIGN §13).
SELECT pg_last_wal_replay_lsn()::text AS replayed,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_last_commit
