-- The hash of the report kept under this id, if any.
--
-- $1  id  uuid
SELECT content_hash FROM reports WHERE id = $1
