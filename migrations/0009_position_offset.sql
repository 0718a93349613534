-- Positions are (transaction id << 16) + index, and transaction ids belong
-- to a cluster: restored into a fresh cluster, whose ids start far lower,
-- the stored positions lie ahead of every new transaction, so the feed
-- (which shows positions below the oldest running transaction) was empty
-- and every append was refused. position_offset is added to transaction
-- ids wherever a position is made or compared: `storyline migrate` (run by
-- every command) raises it when stored positions are ahead of the cluster,
-- so new positions go above every stored one and old ones stay as they are.
CREATE TABLE position_base (
    only_row         boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position_offset  bigint  NOT NULL CHECK (position_offset >= 0)
);
INSERT INTO position_base (position_offset) VALUES (0);

-- Each connection of a storyline process is told the offset at connect
-- (the setting storyline.position_offset); elsewhere (psql, say) it is 0.
CREATE FUNCTION storyline_position_offset() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('storyline.position_offset', true), ''), '0')::bigint
$$;
