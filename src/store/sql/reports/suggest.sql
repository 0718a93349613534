-- Stories ranked by what they share with a report: each clue (an actor, a
-- place, a word) is a query on the search model with a weight; a story
-- scores the weights of the clues its documents match. Stories that match
-- none never appear.
--
-- $1  labels       text[], why a clue matched ("actor: X")
-- $2  queries      text[], each a tsquery
-- $3  weights      float8[]
-- $4  public_only  boolean; true: only stories readable without a token
-- $5  limit        bigint
WITH clues AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::float8[]) AS c(label, query, weight)
),
hits AS (
    SELECT DISTINCT d.story_id, c.label, c.weight
    FROM clues c
    -- Both shards named: the planner then reads both halves' indexes
    -- (migrations/0014).
    JOIN story_search d ON d.search @@ c.query::tsquery AND (d.shard = 0 OR d.shard = 1)
),
scored AS (
    SELECT story_id, sum(weight) AS score, array_agg(label ORDER BY weight DESC, label) AS reasons
    FROM hits GROUP BY story_id
)
SELECT s.story_id, s.slug, s.version, s.created_at, s.updated_at, s.visibility,
       s.embargo_until, sc.score, sc.reasons
FROM scored sc JOIN stories s ON s.story_id = sc.story_id
WHERE NOT $4 OR storyline_is_public(s.visibility, s.embargo_until)
ORDER BY sc.score DESC, s.updated_at DESC, s.story_id
LIMIT $5
