-- Stores a new token's digest under its name (tokens_live_name_key refuses
-- a name a live token has).
--
-- $1  id     uuid
-- $2  name   text
-- $3  hash   bytea, the token's SHA-256 digest
-- $4  scope  text, 'read' or 'write'
INSERT INTO tokens (id, name, hash, scope) VALUES ($1, $2, $3, $4)
