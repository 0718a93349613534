-- The highest version kept of a uri: its number, its text's hash and the
-- format it came in.
--
-- $1  uri  text
SELECT version, content_hash, format FROM reports WHERE uri = $1 ORDER BY version DESC LIMIT 1
