-- A poll that failed: the error kept, the next poll after a wait that
-- doubles with each failure in a row, at most an hour.
--
-- $1  name   text
-- $2  error  text
-- $3  added  bigint, reports kept before the failure
UPDATE feeds
SET last_polled_at = now(),
    last_error = $2,
    failures = failures + 1,
    next_poll_at = now() + make_interval(secs => least(3600.0, every_seconds * power(2, least(failures + 1, 20)))),
    reports_received = reports_received + $3
WHERE name = $1
