-- A page of the story list, most recently updated first, with a status or
-- a cursor and no word filter.
--
-- $1  status          text; NULL: any
-- $2  before_updated  timestamptz, with before_id the place in the list to go on
--                     from (exclusive); NULL: from the top
-- $3  before_id       uuid
-- $4  limit           bigint
-- $5  public_only  boolean; true: only stories readable without a token
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until
FROM stories s
WHERE ($1::text IS NULL OR s.status = $1)
  AND ($2::timestamptz IS NULL OR (s.updated_at, s.story_id) < ($2, $3))
  AND (NOT $5 OR storyline_is_public(s.visibility, s.embargo_until))
ORDER BY s.updated_at DESC, s.story_id DESC
LIMIT $4
