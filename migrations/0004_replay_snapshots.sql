-- Stored folds for replaying a story as of a transaction time (knownAt)
-- without folding from its first event. Keyed by the fold's own version:
-- when the fold's code changes, FOLD_VERSION is bumped and older rows are
-- ignored (and dropped by `storyline rebuild`), never trusted.
CREATE TABLE replay_snapshots (
    story_id      uuid        NOT NULL,
    version       integer     NOT NULL,
    fold_version  integer     NOT NULL,
    -- recorded_at of the event at `version`: the snapshot serves any
    -- knownAt at or after it.
    recorded_at   timestamptz NOT NULL,
    state         jsonb       NOT NULL,
    CONSTRAINT replay_snapshots_pkey PRIMARY KEY (story_id, fold_version, version)
);
