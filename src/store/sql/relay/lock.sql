-- Waits until this session holds the relay's lock for a stream: one relay
-- publishes to a stream at a time (DESIGN §13). Held until the session
-- ends, so a relay that dies, or loses its connection, lets the next in.
--
-- $1  stream  text, the JetStream stream's name
SELECT pg_advisory_lock(hashtextextended('storyline relay ' || $1, 0))
