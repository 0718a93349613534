-- Every token's name, scope and times, newest first; never its digest.
SELECT name, scope, created_at, revoked_at FROM tokens
ORDER BY created_at DESC, name
