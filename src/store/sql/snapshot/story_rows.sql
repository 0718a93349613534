-- The snapshot rows of some stories (those that exist).
--
-- $1  story_ids  uuid[]
SELECT story_id, slug, title, summary, topics, status, version, created_at, updated_at,
       visibility, embargo_until
FROM stories WHERE story_id = ANY($1)
