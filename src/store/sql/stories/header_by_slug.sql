-- The row of the story with this slug, found through the events' unique
-- index of slugs (migrations/0002): the stories table keeps no index of
-- its own on slug, for an append's update of its row to add one index
-- entry fewer (migrations/0015).
--
-- $1  slug  text
SELECT story_id, slug, version, created_at, updated_at, visibility, embargo_until
FROM stories WHERE story_id = (SELECT story_id FROM events
                               WHERE type = 'StoryOpened' AND payload ->> 'slug' = $1)
