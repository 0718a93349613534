-- The first page of the story list, most recently updated first, without
-- any filter. Each combination of filters in use has a statement of its
-- own (stories/list_*.sql): a condition kept for an absent filter ($n IS
-- NULL OR ...) skews a prepared statement's generic plan.
--
-- $1  limit  bigint
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at
FROM stories s
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $1
