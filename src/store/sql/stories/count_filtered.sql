-- How many stories have a status.
--
-- $1  status  text
-- $2  public_only  boolean; true: only stories readable without a token
SELECT count(*) FROM stories s
WHERE s.status = $1
  AND (NOT $2 OR storyline_is_public(s.visibility, s.embargo_until))
