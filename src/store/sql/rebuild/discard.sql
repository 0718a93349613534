-- After a failed rebuild: its fresh tables, empty or half filled.
DROP SCHEMA IF EXISTS storyline_rebuild CASCADE
