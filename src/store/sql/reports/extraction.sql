-- The extractor's reading of a report, with the version that made it.
--
-- $1  report_id  uuid
SELECT extractor_version, mentions, drafts FROM report_extractions WHERE report_id = $1
