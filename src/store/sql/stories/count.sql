-- How many stories there are.
--
-- $1  public_only  boolean; true: only stories readable without a token
SELECT count(*) FROM stories s
WHERE NOT $1 OR storyline_is_public(s.visibility, s.embargo_until)
