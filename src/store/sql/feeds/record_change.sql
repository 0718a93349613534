-- Records a change of a feed's configuration.
--
-- $1  id      uuid
-- $2  feed    text
-- $3  change  text, ADDED, CHANGED or REMOVED
-- $4  config  jsonb
INSERT INTO feed_changes (id, feed, change, config) VALUES ($1, $2, $3, $4)
