-- The name and scope of the token with this digest, if it is live.
--
-- $1  hash  bytea
SELECT name, scope FROM tokens WHERE hash = $1 AND revoked_at IS NULL
