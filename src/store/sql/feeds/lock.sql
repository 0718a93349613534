-- Waits for, then holds, the lock of one feed's polling, for the session.
--
-- $1  name  text
SELECT pg_advisory_lock(hashtextextended('storyline.feed:' || $1, 0))
