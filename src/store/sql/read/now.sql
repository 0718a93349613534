-- The database's clock, the one recorded times are taken from.
SELECT statement_timestamp()
