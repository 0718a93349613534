-- Fresh, empty snapshot tables in the schema storyline_rebuild, shaped as
-- the live ones but without their indexes (building an index over a full
-- table is several times cheaper than updating it row by row), and the view
-- the rebuild fills them from. Committed before the rebuild's workers
-- begin, so that each, on a connection of its own, sees them; readers
-- never look in this schema, and a rebuild drops what a failed one left.
-- Run by the simple protocol, by the rebuild holding rebuild/take_turn.sql.
DROP SCHEMA IF EXISTS storyline_rebuild CASCADE;
CREATE SCHEMA storyline_rebuild;
CREATE TABLE storyline_rebuild.stories
    (LIKE stories INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE storyline_rebuild.story_developments
    (LIKE story_developments INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE storyline_rebuild.story_search
    (LIKE story_search INCLUDING ALL EXCLUDING INDEXES);
-- LIKE copies columns and constraints but not storage options such as
-- fillfactor.
DO $rebuild$
DECLARE
    options text[];
BEGIN
    SELECT reloptions INTO options FROM pg_class WHERE oid = 'stories'::regclass;
    IF cardinality(options) > 0 THEN
        EXECUTE format('ALTER TABLE storyline_rebuild.stories SET (%s)',
                       array_to_string(options, ', '));
    END IF;
END
$rebuild$;
-- A correction's changes over the ones before it: `||` keeps the later
-- value of a field both hold, which is what applying them in order does.
CREATE AGGREGATE storyline_rebuild.merged_changes(jsonb)
    (SFUNC = jsonb_concat, STYPE = jsonb);
-- Every development as its events leave it, in one pass: its report, its
-- corrections merged into one patch (the latest value of each field
-- winning), its verdicts after the one its report gave (oldest first, as
-- the append statements add them), its retraction. The later events are
-- grouped first, and joined to the reports once. The rebuild writes
-- story_developments from it and analyses the search documents of its live
-- rows, at once. Payloads are read as stored: a future schema version must
-- upcast here too.
CREATE VIEW storyline_rebuild.developments_of_events AS
WITH later AS (
    SELECT e.story_id, e.development_id,
           -- Merged whole, not a row per changed field (jsonb_each): the
           -- planner guessed 100 rows a correction, and to sort the 12 M it
           -- expected it read every event in story order instead (the
           -- search documents' cursor 5.0 s, now 3.2 s, at 1.5 M events).
           coalesce(storyline_rebuild.merged_changes(e.payload -> 'changes')
                        FILTER (WHERE e.type = 'DevelopmentCorrected'), '{}'::jsonb) AS changes,
           coalesce(array_agg(e.version) FILTER (WHERE e.type = 'DevelopmentCorrected'),
                    '{}'::int[]) AS corrected_in_versions,
           coalesce(jsonb_agg(storyline_verdict(e.payload, e.version, e.recorded_at))
                        FILTER (WHERE e.type = 'DevelopmentVerificationChanged'), '[]'::jsonb)
               AS verdicts,
           max(e.version) FILTER (WHERE e.type = 'DevelopmentRetracted')
               AS retracted_in_version,
           max(e.payload ->> 'reason') FILTER (WHERE e.type = 'DevelopmentRetracted')
               AS retraction_reason
    -- The aggregates take a development's events in version order from
    -- this sorted subquery, not from an ORDER BY of their own: PostgreSQL
    -- 15 starts a sort for each such aggregate in every group (three a
    -- development here, nearly all of one event), and this grouping took
    -- 1.55 s, now 1.31 s (median of three, 1.5 M events; 16 and later sort
    -- once so by themselves). An aggregate reads its rows in the order its
    -- input yields them; the documentation's caveat is a join between a
    -- sorted subquery and the aggregate, and there is none. The property
    -- test and `verify` hold the order.
    FROM (SELECT story_id, (payload ->> 'developmentId')::uuid AS development_id, type,
                 payload, version, recorded_at
          FROM events
          WHERE type IN ('DevelopmentCorrected', 'DevelopmentVerificationChanged',
                         'DevelopmentRetracted')
          ORDER BY story_id, development_id, version) AS e
    GROUP BY e.story_id, e.development_id
)
SELECT r.story_id, r.development_id,
       -- Merged only where a correction changed something: a jsonb
       -- concatenation writes the whole document anew.
       CASE WHEN l.changes IS NULL OR l.changes = '{}'::jsonb THEN r.payload
            ELSE r.payload || l.changes END AS payload,
       -- The parts, for a reader of a few fields: a view's column is
       -- computed again at each use (merged six times for the six searched
       -- fields), where `coalesce(changes -> f, reported -> f)` reads one.
       r.payload AS reported, l.changes,
       -- A report's event keeps its development's occurredAt in a column
       -- of its own (the contract's Event.occurredAt): no text to parse.
       coalesce((l.changes ->> 'occurredAt')::timestamptz, r.occurred_at) AS occurred_at,
       r.version AS reported_in_version,
       coalesce(l.corrected_in_versions, '{}'::int[]) AS corrected_in_versions,
       l.retracted_in_version, l.retraction_reason,
       r.recorded_at AS reported_at,
       CASE WHEN l.verdicts IS NULL OR l.verdicts = '[]'::jsonb
            THEN storyline_reported_verdicts(r.payload, r.version, r.recorded_at)
            ELSE storyline_reported_verdicts(r.payload, r.version, r.recorded_at)
                 || l.verdicts END AS verifications
-- The id read out of each report once (OFFSET 0 keeps the subquery
-- whole), not again for the join: a third of a second at 1.5 M reports.
FROM (SELECT story_id, (payload ->> 'developmentId')::uuid AS development_id, payload,
             version, recorded_at, occurred_at
      FROM events WHERE type = 'DevelopmentReported' OFFSET 0) AS r
LEFT JOIN later l ON l.story_id = r.story_id AND l.development_id = r.development_id;
-- The plans above need the events' statistics (which share of them is of
-- each type); a bulk import may have left none yet. Old ones serve: the
-- shares change slowly, and the planner scales them by the table's size.
DO $rebuild$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_stats
                   WHERE schemaname = current_schema() AND tablename = 'events'
                     AND attname = 'type') THEN
        ANALYZE events;
    END IF;
END
$rebuild$;
