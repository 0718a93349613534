-- Stops following a feed; its configuration comes back, none when there
-- was no such feed.
--
-- $1  name  text
DELETE FROM feeds WHERE name = $1
RETURNING jsonb_build_object('url', url, 'everySeconds', every_seconds, 'publisher', publisher,
                             'sourceKind', source_kind, 'fetchArticles', fetch_articles,
                             'allowedHosts', allowed_hosts) AS config
