-- Keeps a report unless one of its identity is kept already: then nothing
-- is written and no row comes back. Subscribers are woken on commit.
--
-- $1   id            uuid
-- $2   uri           text
-- $3   version       integer
-- $4   format        text
-- $5   body          text
-- $6   text          text
-- $7   content_hash  text
-- $8   title         text
-- $9   publisher     text
-- $10  source_kind   text
-- $11  url           text
-- $12  byline        text
-- $13  dateline      text
-- $14  language      text
-- $15  published_at  timestamptz
-- $16  feed          text
-- $17  principal     text
-- $18  received_at   timestamptz, null: now
WITH kept AS (
    INSERT INTO reports (id, uri, version, format, body, text, content_hash, title, publisher,
                         source_kind, url, byline, dateline, language, published_at,
                         received_at, feed, principal)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
            coalesce($18, now()), $16, $17)
    ON CONFLICT DO NOTHING
    RETURNING id, received_at
)
SELECT k.received_at
FROM kept k CROSS JOIN LATERAL pg_notify('storyline_reports', k.id::text) AS woken
