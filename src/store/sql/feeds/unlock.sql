-- Releases the lock of one feed's polling.
--
-- $1  name  text
SELECT pg_advisory_unlock(hashtextextended('storyline.feed:' || $1, 0))
