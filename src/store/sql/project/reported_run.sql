-- The development rows and search documents of a run of DevelopmentReported
-- events appended by append/several.sql, inside its transaction (the story
-- row is moved on once, at the append's end: project/story_moved_on.sql).
--
-- $1  story_id      uuid
-- $2  payloads      jsonb[]   one element per event
-- $3  versions      int[]
-- $4  recorded_at   timestamptz, the run's events' (one statement appended them)
-- $5  searches      text[]    the developments' search documents (tsvector)
--
-- Returns the number of development rows written; fewer than the run's
-- events when a rule of the fold is broken (the caller then rolls back).
WITH r AS (
    SELECT * FROM unnest($2::jsonb[], $3::int[], $5::text[]) AS r(payload, version, search)
), projected AS (
    INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                    reported_in_version, reported_at, verifications)
    SELECT $1, (r.payload ->> 'developmentId')::uuid, r.payload,
           (r.payload ->> 'occurredAt')::timestamptz, r.version, $4,
           storyline_reported_verdicts(r.payload, r.version, $4)
    FROM r
    RETURNING 1
), searched AS (
    INSERT INTO story_search (story_id, development_id, search)
    SELECT $1, (r.payload ->> 'developmentId')::uuid, r.search::tsvector FROM r
)
SELECT count(*) FROM projected
