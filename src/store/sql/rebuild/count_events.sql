-- How many events the rebuild replayed (appends are held off).
SELECT count(*) FROM events
