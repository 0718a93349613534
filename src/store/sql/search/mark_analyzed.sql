-- Records which analysis (domain::search::ANALYZER_VERSION) made the stored
-- documents.
--
-- $1  version  int
UPDATE search_analyzer SET version = $1
