-- Drops the live snapshot tables and moves the fresh ones into their place.
-- Readers see the old tables until the rebuild's transaction commits. Run
-- by the simple protocol, after rebuild/index.sql.
DO $rebuild$
DECLARE
    home text := current_setting('storyline.rebuild_home');
BEGIN
    EXECUTE format('DROP TABLE %1$I.story_search, %1$I.story_developments, %1$I.stories',
                   home);
    EXECUTE format('ALTER TABLE storyline_rebuild.stories SET SCHEMA %I', home);
    EXECUTE format('ALTER TABLE storyline_rebuild.story_developments SET SCHEMA %I', home);
    EXECUTE format('ALTER TABLE storyline_rebuild.story_search SET SCHEMA %I', home);
    DROP SCHEMA storyline_rebuild;
END
$rebuild$
