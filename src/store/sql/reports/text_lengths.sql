-- The length in code points of each named report's text (spans are checked
-- against it); unknown ids are absent.
--
-- $1  ids  uuid[]
SELECT id, char_length(text)::bigint AS length FROM reports WHERE id = ANY($1)
