-- Every dismissal, oldest first, as `export` writes them.
SELECT id, report_id, reason, principal, dismissed_at
FROM report_dismissals
ORDER BY dismissed_at, id
