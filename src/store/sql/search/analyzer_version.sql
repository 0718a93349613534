-- Which analysis made the stored documents, locked until the transaction
-- ends so that one process alone re-analyses them.
SELECT version FROM search_analyzer FOR UPDATE
