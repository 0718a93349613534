-- What `stories(search:, actor:)` needs: full text over each story's title
-- and summary and its live developments' words, and the names of the actors
-- those developments name.
--
-- The story header's text is indexed by expression: the per-append UPDATE
-- of the story row computes nothing for it and stays HOT.
CREATE INDEX stories_search_idx ON stories USING gin (
    (to_tsvector('english'::regconfig, title || ' ' || coalesce(summary, '')))
);

-- The developments' words and actor names are an asynchronous read model
-- (DESIGN §3): computing and indexing them inside every append cost a fifth
-- of single-event append throughput and a third of batched. A projector
-- keeps this table in step with `story_developments`, behind by a poll
-- interval, and commits its checkpoint (a feed position) in the same
-- transaction as its effect, so a crash neither skips nor doubles an event.
-- Live developments only: a retraction removes the row.
CREATE TABLE story_search (
    story_id       uuid     NOT NULL,
    development_id uuid     NOT NULL,
    -- Headline, summary, place, actor names, quotes and tags.
    search         tsvector NOT NULL,
    -- Lower-cased actor names as a JSON array, for a case-insensitive
    -- containment match (`@>`) that the GIN index answers.
    actor_names    jsonb    NOT NULL,
    CONSTRAINT story_search_pkey PRIMARY KEY (story_id, development_id)
);
CREATE INDEX story_search_search_idx ON story_search USING gin (search);
CREATE INDEX story_search_actor_names_idx ON story_search USING gin (actor_names jsonb_path_ops);

-- Where each asynchronous projector has read the feed up to. Its row is
-- also its lock: a projector step holds it FOR UPDATE, so one instance
-- works at a time however many servers run.
CREATE TABLE projector_checkpoints (
    projector text   PRIMARY KEY,
    position  bigint NOT NULL
);
INSERT INTO projector_checkpoints (projector, position) VALUES ('story_search', 0);

-- No index on stories.updated_at for the story list: every append updates
-- it, and an index on it would make those updates non-HOT. The list sorts
-- the matching rows instead (a top-N sort).
