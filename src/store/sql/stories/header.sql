-- A story's row in the snapshot, as every story answers without folding.
--
-- $1  story_id  uuid
SELECT story_id, slug, version, created_at, updated_at, visibility, embargo_until
FROM stories WHERE story_id = $1
