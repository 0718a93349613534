-- Which of some stories are readable without a token now (DESIGN §10): the
-- live reader asks once per batch of events it fans out.
--
-- $1  story_ids  uuid[]
SELECT story_id FROM stories
WHERE story_id = ANY($1) AND storyline_is_public(visibility, embargo_until)
