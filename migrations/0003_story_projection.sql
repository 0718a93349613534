-- The story snapshot projection, kept in step by the append statement
-- itself (read-your-writes): one row per story and one per development.
-- Aggregates (actors, figures, quotes) are derived from the development
-- rows when read, so an append touches one development row and the story
-- row, however long the story.
CREATE TABLE stories (
    story_id    uuid        PRIMARY KEY,
    slug        text        NOT NULL,
    title       text        NOT NULL,
    summary     text,
    topics      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    status      text        NOT NULL,
    version     integer     NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT stories_slug_key UNIQUE (slug)
) WITH (fillfactor = 70);
-- Every append updates its story's row: no index covers the columns it
-- changes (version, updated_at, status), and the free space left in each
-- page lets those updates stay HOT (no new index entries, quick pruning).

-- payload is the DevelopmentReported payload with every correction's
-- changes merged in (jsonb ||: present fields replace, lists replace whole).
CREATE TABLE story_developments (
    story_id               uuid        NOT NULL,
    development_id         uuid        NOT NULL,
    payload                jsonb       NOT NULL,
    occurred_at            timestamptz NOT NULL,
    reported_in_version    integer     NOT NULL,
    corrected_in_versions  integer[]   NOT NULL DEFAULT '{}',
    retracted_in_version   integer,
    retraction_reason      text,
    CONSTRAINT story_developments_pkey PRIMARY KEY (story_id, development_id)
);

-- Stories appended before this migration get their rows from
-- `storyline rebuild`.
