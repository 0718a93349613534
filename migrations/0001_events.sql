-- The event log: every development of every story, append-only.
--
-- position is the global order. It is computed at insert as
--   (transaction id << 16) + index of the event within its transaction
-- so it grows with the writer's transaction id, not with the moment a number
-- was drawn. A reader that only returns events whose transaction id lies
-- below the oldest transaction still running (pg_snapshot_xmin) can therefore
-- never later meet a new event at a lower position, while writers need no
-- shared lock or sequence at all. See src/store/feed.rs.
CREATE TABLE events (
    position        bigint      NOT NULL,
    id              uuid        NOT NULL,
    story_id        uuid        NOT NULL,
    version         integer     NOT NULL CHECK (version > 0),
    type            text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version > 0),
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    -- A clash here is an idempotent retry (same event id).
    CONSTRAINT events_id_key UNIQUE (id),
    -- A clash here is a concurrency conflict (two writers, one version).
    CONSTRAINT events_story_version_key UNIQUE (story_id, version)
);

CREATE INDEX events_story_occurred_idx ON events (story_id, occurred_at);
CREATE INDEX events_type_position_idx ON events (type, position);

-- Immutability: no role, the application's included, may change or remove an
-- event. ENABLE ALWAYS keeps the triggers firing even under
-- session_replication_role = replica.
CREATE FUNCTION events_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();

ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update_delete;
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;

-- API tokens. Only a SHA-256 hash of each token is kept; the raw token is
-- shown once by `storyline token create` and stored nowhere.
CREATE TABLE tokens (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(btrim(name)) > 0),
    hash        bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One live token per name: the name is the principal recorded in metadata.
CREATE UNIQUE INDEX tokens_live_name_key ON tokens (name) WHERE revoked_at IS NULL;
