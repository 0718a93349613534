-- Holds appends off until the rebuild's transaction ends; readers go on.
LOCK TABLE events IN SHARE MODE
