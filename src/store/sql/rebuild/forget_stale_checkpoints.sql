-- Stored replay checkpoints of other fold code are never used again.
--
-- $1  fold_version  int, this code's FOLD_VERSION
DELETE FROM replay_checkpoints WHERE fold_version <> $1
