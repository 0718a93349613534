-- The migrations applied so far, by version; an error (no table yet)
-- reads as none.
SELECT version FROM _sqlx_migrations WHERE success
