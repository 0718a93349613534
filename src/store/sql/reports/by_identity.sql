-- The kept report of this identity: (uri, version), or without a uri the
-- text's hash.
--
-- $1  uri           text
-- $2  version       integer
-- $3  content_hash  text
SELECT id, content_hash FROM reports
WHERE ($1::text IS NOT NULL AND uri = $1 AND version = $2)
   OR ($1::text IS NULL AND uri IS NULL AND content_hash = $3)
