-- The story whose StoryOpened event carries a slug, read from the events
-- (export works without the snapshot tables).
--
-- $1  slug  text
SELECT story_id FROM events WHERE type = 'StoryOpened' AND payload ->> 'slug' = $1
