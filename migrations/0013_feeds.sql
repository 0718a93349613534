-- Feeds storyline follows (DESIGN §12): each feed's configuration and the
-- state of its polling; every change of configuration is recorded in
-- feed_changes, which is never changed.

CREATE TABLE feeds (
    name              text        PRIMARY KEY CHECK (length(btrim(name)) > 0),
    url               text        NOT NULL,
    every_seconds     integer     NOT NULL CHECK (every_seconds >= 1),
    publisher         text,
    source_kind       text,
    fetch_articles    boolean     NOT NULL DEFAULT false,
    allowed_hosts     text[]      NOT NULL DEFAULT '{}',
    -- RSS, ATOM, JSON_FEED or NINJS, as detected on the last good poll.
    format            text,
    -- The validators of the last good answer, sent back on the next poll.
    etag              text,
    last_modified     text,
    last_polled_at    timestamptz,
    last_success_at   timestamptz,
    last_error        text,
    -- Failures in a row: the wait before the next poll doubles with each,
    -- up to an hour.
    failures          integer     NOT NULL DEFAULT 0,
    next_poll_at      timestamptz NOT NULL DEFAULT now(),
    reports_received  bigint      NOT NULL DEFAULT 0
);
CREATE INDEX feeds_next_poll_idx ON feeds (next_poll_at);

CREATE TABLE feed_changes (
    id          uuid        PRIMARY KEY,
    feed        text        NOT NULL,
    change      text        NOT NULL CHECK (change IN ('ADDED', 'CHANGED', 'REMOVED')),
    -- The configuration after the change (before it, for REMOVED).
    config      jsonb       NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feed_changes_feed_idx ON feed_changes (feed, changed_at);

CREATE TRIGGER feed_changes_no_update_delete BEFORE UPDATE OR DELETE ON feed_changes
    FOR EACH ROW EXECUTE FUNCTION reports_reject_change();
CREATE TRIGGER feed_changes_no_truncate BEFORE TRUNCATE ON feed_changes
    FOR EACH STATEMENT EXECUTE FUNCTION reports_reject_change();
ALTER TABLE feed_changes ENABLE ALWAYS TRIGGER feed_changes_no_update_delete;
ALTER TABLE feed_changes ENABLE ALWAYS TRIGGER feed_changes_no_truncate;
