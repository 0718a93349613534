-- What this database adds to transaction ids to make positions (see
-- positions/rebase.sql); each connection of the store is told it at connect.
SELECT position_offset FROM position_base
