-- One feed.
--
-- $1  name  text
SELECT name, url, every_seconds, publisher, source_kind, fetch_articles, allowed_hosts, format,
       etag, last_modified, last_polled_at, last_success_at, last_error, failures, next_poll_at,
       reports_received
FROM feeds WHERE name = $1
