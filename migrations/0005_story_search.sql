-- What `stories(search:, actor:)` and the story list need from the snapshot
-- projection.
--
-- Full text: the story's title and summary (an expression index, so the
-- per-append UPDATE of the story row computes nothing and can stay HOT),
-- and each development's own words (a stored column computed once per
-- development write, so an append never re-indexes the whole story). A
-- story matches when its header or one of its live developments does.
CREATE INDEX stories_search_idx ON stories USING gin (
    (to_tsvector('english'::regconfig, title || ' ' || coalesce(summary, '')))
);

-- The development's words: headline, summary, place, actor names, quotes
-- and tags. (jsonb_to_tsvector over every string of the payload costs 2.6x
-- as much per row, which a rebuild of a million events pays in full.)
ALTER TABLE story_developments
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig,
            coalesce(payload ->> 'headline', '') || ' ' ||
            coalesce(payload ->> 'summary', '') || ' ' ||
            coalesce(payload #>> '{location,name}', '') || ' ' ||
            coalesce(jsonb_path_query_array(payload, '$.actors[*].name')::text, '') || ' ' ||
            coalesce(jsonb_path_query_array(payload, '$.quotes[*].text')::text, '') || ' ' ||
            coalesce(payload ->> 'tags', ''))
    ) STORED,
    -- Lower-cased actor names as a JSON array, for a case-insensitive
    -- containment match (`@>`) that the GIN index answers.
    ADD COLUMN actor_names jsonb GENERATED ALWAYS AS (
        lower(jsonb_path_query_array(payload, '$.actors[*].name')::text)::jsonb
    ) STORED;

CREATE INDEX story_developments_search_idx ON story_developments USING gin (search);
CREATE INDEX story_developments_actor_names_idx
    ON story_developments USING gin (actor_names jsonb_path_ops);

-- No index on stories.updated_at for the story list: every append updates
-- it, and an index on it would make those updates non-HOT. The list sorts
-- the matching rows instead (a top-N sort).
