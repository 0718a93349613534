-- Reports whose reading is missing or from another extractor version, a
-- batch at a time in id order.
--
-- $1  extractor_version  integer
-- $2  after              uuid
-- $3  limit              bigint
SELECT r.id, r.text, r.published_at, r.received_at, r.dateline
FROM reports r
LEFT JOIN report_extractions e ON e.report_id = r.id
WHERE (e.report_id IS NULL OR e.extractor_version <> $1) AND r.id > $2
ORDER BY r.id
LIMIT $3
