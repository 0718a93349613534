-- How far the relay is behind the feed after a position: the events stored
-- after it (counted up to a million) and when the first of them was
-- recorded (NULL when none).
--
-- $1  after  bigint, the position of the last event published
SELECT (SELECT count(*) FROM (SELECT 1 FROM events WHERE position > $1 LIMIT 1000000) AS behind)
           AS events,
       (SELECT recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT 1)
           AS oldest_recorded_at
