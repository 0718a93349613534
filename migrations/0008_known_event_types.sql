-- Every stored event is of a type the code knows (domain::events::EventType):
-- reads can then always tell what an event is, and a row written by hand
-- cannot make a page of the feed unreadable. NOT VALID: rows stored before
-- are not re-checked. A release that adds a type extends this list in a
-- migration of its own.
ALTER TABLE events ADD CONSTRAINT events_type_known CHECK (type IN (
    'StoryOpened',
    'DevelopmentReported',
    'DevelopmentCorrected',
    'DevelopmentRetracted',
    'StoryStatusChanged'
)) NOT VALID;
