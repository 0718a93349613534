-- Revokes the live token of a name; it fails from the next request on.
--
-- $1  name  text
UPDATE tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL
