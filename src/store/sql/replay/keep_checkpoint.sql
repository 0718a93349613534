-- Stores a replay checkpoint: a story's fold at a version. A fold at a
-- version never changes, so one stored already is as good.
--
-- $1  story_id      uuid
-- $2  version       int
-- $3  fold_version  int, this code's FOLD_VERSION
-- $4  recorded_at   timestamptz, of the event at that version
-- $5  state         jsonb, the fold
INSERT INTO replay_checkpoints (story_id, version, fold_version, recorded_at, state)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
