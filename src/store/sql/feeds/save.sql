-- Adds a feed, or changes the configuration of the feed of that name: a
-- changed feed is polled at once and in full (its validators dropped, as
-- the new configuration may read its items otherwise). Whether it was added
-- comes back.
--
-- $1  name            text
-- $2  url             text
-- $3  every_seconds   integer
-- $4  publisher       text
-- $5  source_kind     text
-- $6  fetch_articles  boolean
-- $7  allowed_hosts   text[]
INSERT INTO feeds (name, url, every_seconds, publisher, source_kind, fetch_articles, allowed_hosts)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (name) DO UPDATE
SET url = excluded.url,
    every_seconds = excluded.every_seconds,
    publisher = excluded.publisher,
    source_kind = excluded.source_kind,
    fetch_articles = excluded.fetch_articles,
    allowed_hosts = excluded.allowed_hosts,
    etag = NULL,
    last_modified = NULL,
    next_poll_at = now()
RETURNING (xmax = 0) AS added
