-- Reports as the API shows them, with their status (USED > DISMISSED >
-- NEW), the latest dismissal's reason and the version they replace.
--
-- $1  ids  uuid[]
SELECT r.id, r.uri, r.version, r.format, r.text, r.content_hash, r.title, r.publisher,
       r.source_kind, r.url, r.byline, r.dateline, r.language, r.published_at,
       r.received_at, r.feed,
       storyline_report_status(r.id) AS status,
       (SELECT x.reason FROM report_dismissals x WHERE x.report_id = r.id
        ORDER BY x.dismissed_at DESC, x.id DESC LIMIT 1) AS dismissed_reason,
       (SELECT p.id FROM reports p WHERE p.uri = r.uri AND p.version < r.version
        ORDER BY p.version DESC LIMIT 1) AS previous_version
FROM reports r
WHERE r.id = ANY($1)
