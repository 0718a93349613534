-- Claims the feed most overdue for a poll: its next poll moves one interval
-- on, so no other server claims it in that interval. SKIP LOCKED lets
-- servers claim different feeds at once.
UPDATE feeds f
SET next_poll_at = now() + make_interval(secs => f.every_seconds), last_polled_at = now()
WHERE f.name = (SELECT name FROM feeds WHERE next_poll_at <= now()
                ORDER BY next_poll_at FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING f.name, f.url, f.every_seconds, f.publisher, f.source_kind, f.fetch_articles,
          f.allowed_hosts, f.format, f.etag, f.last_modified, f.last_polled_at,
          f.last_success_at, f.last_error, f.failures, f.next_poll_at, f.reports_received
