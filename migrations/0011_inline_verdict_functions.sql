-- The verdict functions of 0010 build JSON from a timestamptz, which
-- depends on the session's TimeZone: their bodies are STABLE, and a SQL
-- function declared IMMUTABLE over a STABLE body is never inlined. Each
-- append then called the SQL function executor for its development row
-- (one writer appended 1,184 events/s against 1,618 before 0010). Declared
-- STABLE, the planner inlines them into the append statements.
ALTER FUNCTION storyline_reported_verdicts(jsonb, int, timestamptz) STABLE;
ALTER FUNCTION storyline_verdict(jsonb, int, timestamptz) STABLE;
