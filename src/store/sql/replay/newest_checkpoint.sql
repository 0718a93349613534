-- The newest stored replay checkpoint of a story folded by this code's
-- rules whose last event was recorded by a cut.
--
-- $1  story_id      uuid
-- $2  fold_version  int, this code's FOLD_VERSION
-- $3  recorded_by   timestamptz, inclusive
SELECT state::text FROM replay_checkpoints
WHERE story_id = $1 AND fold_version = $2 AND recorded_at <= $3
ORDER BY version DESC LIMIT 1
