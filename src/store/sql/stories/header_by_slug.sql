-- The row of the story with this slug.
--
-- $1  slug  text
SELECT story_id, slug, version, created_at, updated_at, visibility, embargo_until
FROM stories WHERE slug = $1
