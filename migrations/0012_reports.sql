-- Contract revision 3: reports, the documents developments come from
-- (DESIGN §11). A report is a fact like an event: kept whole, never changed.
-- What the extractor found in it is a projection (report_extractions),
-- recomputed by `storyline rebuild` when the extractor changes.

CREATE TABLE reports (
    id            uuid        PRIMARY KEY,
    -- The source's own identifier; with it, identity is (uri, version).
    uri           text,
    version       integer     NOT NULL CHECK (version > 0),
    format        text        NOT NULL CHECK (format IN ('TEXT', 'HTML', 'NINJS')),
    -- The body as given (the page, the ninjs document), and the plain text
    -- in DESIGN §11's normal form that every span points into.
    body          text        NOT NULL,
    text          text        NOT NULL CHECK (length(text) > 0),
    -- Lower-case hex SHA-256 of text as UTF-8; `verify` recomputes it.
    content_hash  text        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    title         text,
    publisher     text,
    source_kind   text,
    url           text,
    byline        text,
    dateline      text,
    language      text,
    published_at  timestamptz,
    received_at   timestamptz NOT NULL,
    feed          text,
    -- Who submitted it (a token's name, or the CLI).
    principal     text        NOT NULL
);

-- Identity: a clash is the same report again (or, with other text, an error).
CREATE UNIQUE INDEX reports_uri_version_key ON reports (uri, version) WHERE uri IS NOT NULL;
CREATE UNIQUE INDEX reports_content_hash_key ON reports (content_hash) WHERE uri IS NULL;
-- The inbox: newest first.
CREATE INDEX reports_received_idx ON reports (received_at DESC, id DESC);
CREATE INDEX reports_search_idx ON reports USING gin (
    (to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || text))
);

-- Why, when and by whom a report was set aside; appended, never changed.
CREATE TABLE report_dismissals (
    id            uuid        PRIMARY KEY,
    report_id     uuid        NOT NULL REFERENCES reports (id),
    reason        text        NOT NULL,
    principal     text        NOT NULL,
    dismissed_at  timestamptz NOT NULL
);
CREATE INDEX report_dismissals_report_idx ON report_dismissals (report_id, dismissed_at DESC);

CREATE FUNCTION reports_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reports are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER reports_no_update_delete BEFORE UPDATE OR DELETE ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_reject_change();
CREATE TRIGGER reports_no_truncate BEFORE TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION reports_reject_change();
CREATE TRIGGER report_dismissals_no_update_delete BEFORE UPDATE OR DELETE ON report_dismissals
    FOR EACH ROW EXECUTE FUNCTION reports_reject_change();
CREATE TRIGGER report_dismissals_no_truncate BEFORE TRUNCATE ON report_dismissals
    FOR EACH STATEMENT EXECUTE FUNCTION reports_reject_change();
ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_no_update_delete;
ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_no_truncate;
ALTER TABLE report_dismissals ENABLE ALWAYS TRIGGER report_dismissals_no_update_delete;
ALTER TABLE report_dismissals ENABLE ALWAYS TRIGGER report_dismissals_no_truncate;

-- The extractor's reading of each report: mentions and drafts as JSON,
-- stamped with the extractor's version.
CREATE TABLE report_extractions (
    report_id          uuid    PRIMARY KEY REFERENCES reports (id),
    extractor_version  integer NOT NULL,
    mentions           jsonb   NOT NULL,
    drafts             jsonb   NOT NULL
);

-- Which live developments cite a report: their sources name it.
CREATE INDEX story_developments_sources_idx ON story_developments
    USING gin ((payload -> 'sources') jsonb_path_ops);

-- USED when a live development cites the report, else DISMISSED when it was
-- dismissed, else NEW (DESIGN §11).
CREATE FUNCTION storyline_report_status(report uuid) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM story_developments d
                     WHERE d.retracted_in_version IS NULL
                       AND d.payload -> 'sources' @> jsonb_build_array(jsonb_build_object('reportId', report::text)))
            THEN 'USED'
        WHEN EXISTS (SELECT 1 FROM report_dismissals x WHERE x.report_id = report)
            THEN 'DISMISSED'
        ELSE 'NEW'
    END
$$;
