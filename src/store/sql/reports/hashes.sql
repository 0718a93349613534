-- Every report's text and stored hash, a batch at a time in id order, for
-- `verify`.
--
-- $1  after  uuid
-- $2  limit  bigint
SELECT id, text, content_hash FROM reports WHERE id > $1 ORDER BY id LIMIT $2
