-- The first page of the story list, most recently updated first, without
-- any filter. Each combination of filters in use has a statement of its
-- own (stories/list_*.sql): a condition kept for an absent filter ($n IS
-- NULL OR ...) skews a prepared statement's generic plan.
--
-- $1  limit  bigint
-- $2  public_only  boolean; true: only stories readable without a token
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until
FROM stories s
WHERE NOT $2 OR storyline_is_public(s.visibility, s.embargo_until)
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $1
