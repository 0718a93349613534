-- Fresh planner statistics after a large load (an import), for the tables
-- it filled: autovacuum would get to them, but the queries right after the
-- load would be planned on the empty tables' figures meanwhile (a search
-- for a word in every development took 224 ms instead of 3 ms). The
-- columns the planner filters and joins on: sampling the JSON documents
-- costs most of an ANALYZE (0.8 s of 1 s for events at 1 M) and steers no
-- plan. Run by the simple protocol (several statements).
ANALYZE events (position, id, story_id, version, type, occurred_at, recorded_at);
ANALYZE stories;
ANALYZE story_developments (story_id, development_id, occurred_at, reported_in_version,
                            retracted_in_version, reported_at);
ANALYZE story_search;
