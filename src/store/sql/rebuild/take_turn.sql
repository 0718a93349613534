-- One rebuild at a time: the second waits here until the first's
-- transaction ends, before it touches the schema storyline_rebuild.
SELECT pg_advisory_xact_lock(hashtextextended('storyline rebuild', 0))
