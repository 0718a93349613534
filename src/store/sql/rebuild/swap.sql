-- Drops the live snapshot tables and moves the fresh ones into their place.
-- Readers see the old tables until the rebuild's transaction commits. Run
-- by the simple protocol, in the transaction holding events locked, once
-- every worker committed its tables.
DO $rebuild$
DECLARE
    home text := current_schema();
BEGIN
    EXECUTE format('DROP TABLE %1$I.story_search, %1$I.story_developments, %1$I.stories',
                   home);
    EXECUTE format('ALTER TABLE storyline_rebuild.stories SET SCHEMA %I', home);
    EXECUTE format('ALTER TABLE storyline_rebuild.story_developments SET SCHEMA %I', home);
    EXECUTE format('ALTER TABLE storyline_rebuild.story_search SET SCHEMA %I', home);
    -- With the view the fresh tables were filled from.
    DROP SCHEMA storyline_rebuild CASCADE;
END
$rebuild$
