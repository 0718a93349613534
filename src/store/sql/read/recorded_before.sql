-- How many events were recorded before a time: what an export that began
-- then must have written.
--
-- $1  before  timestamptz
SELECT count(*) FROM events WHERE recorded_at < $1
