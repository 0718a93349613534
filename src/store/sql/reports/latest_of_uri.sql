-- The highest version kept of a uri, and its text's hash.
--
-- $1  uri  text
SELECT version, content_hash FROM reports WHERE uri = $1 ORDER BY version DESC LIMIT 1
