-- A story's slug is unique across stories. StoryOpened is each story's first
-- event and carries the slug, so a partial unique index over those events
-- enforces it inside the very append that opens the story, and finds a
-- story by its slug.
CREATE UNIQUE INDEX events_story_slug_key
    ON events ((payload ->> 'slug'))
    WHERE type = 'StoryOpened';
