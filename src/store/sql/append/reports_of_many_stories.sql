-- Appends one DevelopmentReported event to each of several opened stories,
-- in one statement and one commit (group commit, see batch.rs). Each append
-- keeps its own expected version and token check; one whose check fails is
-- left out of the result, not failing the others. The batch holds at most one
-- append per story, ordered by story, so two batches lock in one order.
--
-- $1  story_ids        uuid[]         one element per append
-- $2  expected         int[]          the version each story must be at; NULL elements: any
-- $3  event_ids        uuid[]
-- $4  schema_versions  int[]
-- $5  payloads         text[]         JSON text, parsed once here
-- $6  occurred_at      timestamptz[]  NULL elements: the payload's occurredAt
-- $7  metadata         text[]         JSON text
-- $8  tokens           bytea[]        digests of the callers' tokens; NULL elements: trusted caller
-- $9  searches         text[]         the developments' search documents (tsvector)
--
-- Returns, by event id, the position, version, occurred_at and recorded_at of
-- each append that passed its checks.
WITH p AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::int[], $5::text[],
                         $6::timestamptz[], $7::text[], $8::bytea[], $9::text[])
        WITH ORDINALITY AS p(story, expected, id, schema_version, payload, occurred_at,
                             metadata, token, search, ord)
), ins AS (
    INSERT INTO events (position, id, story_id, version, type, schema_version,
                        payload, metadata, occurred_at, recorded_at)
    SELECT xact.base + p.ord - 1, p.id, p.story, coalesce(head.version, 0) + 1,
           'DevelopmentReported', p.schema_version, p.payload::jsonb, p.metadata::jsonb,
           coalesce(p.occurred_at, (p.payload::jsonb ->> 'occurredAt')::timestamptz,
                    now_.recorded_at),
           now_.recorded_at
    FROM p
    CROSS JOIN (SELECT (pg_current_xact_id()::text::bigint + storyline_position_offset()) << 16 AS base) AS xact
    LEFT JOIN LATERAL (
        SELECT version, recorded_at, position
        FROM events WHERE story_id = p.story ORDER BY version DESC LIMIT 1
    ) AS head ON true
    CROSS JOIN LATERAL (
        SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
    ) AS now_
    WHERE (p.expected::int IS NULL OR coalesce(head.version, 0) = p.expected)
      AND xact.base > coalesce(head.position, 0)
      AND (p.token::bytea IS NULL OR (SELECT revoked_at IS NULL FROM tokens WHERE hash = p.token))
      AND head.version IS NOT NULL
    RETURNING id, story_id, version, type, payload, position, occurred_at, recorded_at
), projected AS (
    INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                    reported_in_version, reported_at, verifications)
    SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
           (payload ->> 'occurredAt')::timestamptz, version, recorded_at,
           storyline_reported_verdicts(payload, version, recorded_at)
    FROM ins
    RETURNING 1
), searched AS (
    INSERT INTO story_search (story_id, development_id, search)
    SELECT ins.story_id, (ins.payload ->> 'developmentId')::uuid, p.search::tsvector
    FROM ins JOIN p ON p.id = ins.id
), header AS (
    UPDATE stories s
    SET version = ins.version, updated_at = ins.recorded_at
    FROM ins WHERE s.story_id = ins.story_id
    RETURNING 1
)
SELECT id, position, version, occurred_at, recorded_at FROM ins
