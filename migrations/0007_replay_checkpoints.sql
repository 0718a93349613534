-- Stored replay folds are "checkpoints"; "snapshot" names the story
-- snapshot tables alone (stories, story_developments, story_search).
ALTER TABLE replay_snapshots RENAME TO replay_checkpoints;
ALTER INDEX replay_snapshots_pkey RENAME TO replay_checkpoints_pkey;
