-- Keeps an imported dismissal as it was; one already kept is left alone.
--
-- $1  id            uuid
-- $2  report_id     uuid
-- $3  reason        text
-- $4  principal     text
-- $5  dismissed_at  timestamptz
INSERT INTO report_dismissals (id, report_id, reason, principal, dismissed_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING
