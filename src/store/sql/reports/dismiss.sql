-- Appends a dismissal of a kept report; no row comes back for an unknown id.
--
-- $1  id         uuid
-- $2  report_id  uuid
-- $3  reason     text
-- $4  principal  text
INSERT INTO report_dismissals (id, report_id, reason, principal, dismissed_at)
SELECT $1, r.id, $3, $4, now() FROM reports r WHERE r.id = $2
RETURNING report_id
