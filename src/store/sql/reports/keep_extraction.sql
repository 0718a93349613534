-- What the extractor found in a report, replacing an older reading.
--
-- $1  report_id          uuid
-- $2  extractor_version  integer
-- $3  mentions           jsonb
-- $4  drafts             jsonb
INSERT INTO report_extractions (report_id, extractor_version, mentions, drafts)
VALUES ($1, $2, $3, $4)
ON CONFLICT (report_id) DO UPDATE
SET extractor_version = excluded.extractor_version,
    mentions = excluded.mentions,
    drafts = excluded.drafts
