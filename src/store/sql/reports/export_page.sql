-- Reports whole, as `export` writes them, a page at a time in the order
-- they were received.
--
-- $1  after_received_at  timestamptz, null: from the first
-- $2  after_id           uuid
-- $3  limit              bigint
SELECT id, uri, version, format, body, text, content_hash, title, publisher, source_kind,
       url, byline, dateline, language, published_at, received_at, feed, principal
FROM reports
WHERE $1::timestamptz IS NULL OR (received_at, id) > ($1, $2)
ORDER BY received_at, id
LIMIT $3
