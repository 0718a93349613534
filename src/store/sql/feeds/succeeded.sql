-- A poll that worked: its validators, the format seen, the reports added;
-- the next poll one interval on, the error and the backoff cleared.
--
-- $1  name           text
-- $2  format         text, null: as before (a 304)
-- $3  etag           text
-- $4  last_modified  text
-- $5  added          bigint
UPDATE feeds
SET format = coalesce($2, format),
    etag = coalesce($3, etag),
    last_modified = coalesce($4, last_modified),
    last_polled_at = now(),
    last_success_at = now(),
    last_error = NULL,
    failures = 0,
    next_poll_at = now() + make_interval(secs => every_seconds),
    reports_received = reports_received + $5
WHERE name = $1
