//! Appending to a story's stream.
//!
//! An append is one SQL statement in its own transaction: it reads the
//! stream's head, checks the expected version (and the caller's token), and
//! inserts, all at once. A one-event report first tries a statement shared
//! with other callers' reports (`batch.rs`), with the same checks per row.
//! Refusals surface either as "nothing inserted" (the version check failed)
//! or as a unique violation (the event id is used, or a concurrent writer
//! took the version between our read and our insert); both lead to
//! `explain_refusal`, which tells a retry, a duplicate and a version conflict
//! apart.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::batch::{Batched, Placement, Submission};
use super::feed::{EventRow, EVENT_COLUMNS};
use super::search;
use super::snapshot::{
    project, project_corrected, project_opened, project_reported, project_reported_rows,
    project_retracted, project_status, Projected,
};
use super::tokens::{Credential, TokenDigest};
use super::{AppendOutcome, EventMetadata, NewEvent, RecordedEvent, Store, StoreError};
use crate::domain::events::StoryEvent;
use crate::domain::fold::{apply, StoryFold};
use crate::domain::search::SearchDocument;
use crate::domain::{EventId, Position, StoryId, Version};

/// Positions hold the event's index within its transaction in their low 16
/// bits (see migrations/0001_events.sql).
pub const MAX_EVENTS_PER_TRANSACTION: usize = 1 << 16;

/// How often an append without an expected version re-reads the head after
/// losing a race to a concurrent writer before giving up.
const MAX_ATTEMPTS: usize = 64;

// The statements below are single INSERT ... SELECTs without CTEs:
// materialised CTEs cost a third more per append (pgbench -M prepared,
// 1 client: 0.52 ms vs 0.44 ms). One event, the common case, binds scalars;
// unnesting arrays costs another 15% (0.58 vs 0.67 ms through sqlx).

/// The story's head (latest version, its position and recorded time) and the
/// recorded time of this append, which never goes back within a story even
/// if the clock does. `$story` is the story; a FROM item follows.
macro_rules! story_head {
    ($story:literal) => {
        concat!(
            "(SELECT pg_current_xact_id()::text::bigint << 16 AS base) AS xact
             LEFT JOIN LATERAL (
                 SELECT version, recorded_at, position
                 FROM events WHERE story_id = ",
            $story,
            "    ORDER BY version DESC LIMIT 1
             ) AS head ON true
             CROSS JOIN LATERAL (
                 SELECT greatest(statement_timestamp(), head.recorded_at) AS recorded_at
             ) AS now_ "
        )
    };
}

/// `$expected` is the expected version, or NULL; `$token` the digest of the
/// caller's token, or NULL for a trusted caller (the CLI), and must be live.
/// A used event id is left to the unique index: checking first would cost
/// every append an index probe to spare the rare retry an aborted insert.
/// The position condition keeps a stream's positions in version order: only
/// a transaction whose id was taken before it read the head could break it,
/// and it is refused.
macro_rules! append_guards {
    ($expected:literal, $token:literal) => {
        concat!(
            "WHERE (",
            $expected,
            "::int IS NULL OR coalesce(head.version, 0) = ",
            $expected,
            ")
               AND xact.base > coalesce(head.position, 0)
               AND (",
            $token,
            "::bytea IS NULL OR (
                   SELECT revoked_at IS NULL FROM tokens WHERE hash = ",
            $token,
            ")) "
        )
    };
}

/// One event, with the fold's rule for its type checked in the same
/// snapshot as the head, and its projection written by the same statement.
/// `$6` is the payload; `$7` the event's occurredAt, or NULL to derive it
/// with `$occurred` (NULL there too: it occurs when it is recorded); `$9`
/// the caller's token digest or NULL.
/// `$10` is the event's search document (tsvector text), for the types that
/// have one.
macro_rules! append_one {
    ($rule:expr, $projection:expr) => {
        append_one!($rule, $projection, "NULL")
    };
    ($rule:expr, $projection:expr, $occurred:expr) => {
        concat!(
            "WITH ins AS (
                INSERT INTO events (position, id, story_id, version, type, schema_version,
                                    payload, metadata, occurred_at, recorded_at)
                SELECT xact.base, $3, $1, coalesce(head.version, 0) + 1, $4, $5, $6, $8,
                       coalesce($7, ",
            $occurred,
            ", now_.recorded_at), now_.recorded_at FROM ",
            story_head!("$1"),
            append_guards!("$2", "$9"),
            $rule,
            " RETURNING story_id, version, type, payload, position, occurred_at, recorded_at
            ) ",
            $projection,
            " SELECT position, version, occurred_at, recorded_at FROM ins"
        )
    };
}

/// The rule of corrections and retractions: the story is open and the
/// development they name exists and is not retracted.
macro_rules! targets_live_development {
    () => {
        " AND head.version IS NOT NULL AND EXISTS (
            SELECT 1 FROM story_developments
            WHERE story_id = $1 AND development_id = ($6::jsonb ->> 'developmentId')::uuid
              AND retracted_in_version IS NULL)"
    };
}

/// The occurredAt of the development a correction or retraction names, as
/// it stands before this event (the contract's Event.occurredAt when the
/// event does not move it).
macro_rules! target_occurred_at {
    () => {
        "(SELECT occurred_at FROM story_developments
          WHERE story_id = $1 AND development_id = ($6::jsonb ->> 'developmentId')::uuid)"
    };
}

/// The statement appending one event of `event_type`, or `None` for a type
/// the store does not know. Each derives the event's occurredAt from its
/// payload when the caller leaves it out (see [`NewEvent::occurred_at`]).
fn append_one_sql(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "StoryOpened" => append_one!(" AND head.version IS NULL", project_opened!("$10")),
        // A development id used before is left to story_developments_pkey.
        "DevelopmentReported" => append_one!(
            " AND head.version IS NOT NULL",
            project_reported!("$10"),
            "($6::jsonb ->> 'occurredAt')::timestamptz"
        ),
        "DevelopmentCorrected" => append_one!(
            targets_live_development!(),
            project_corrected!(),
            concat!(
                "($6::jsonb -> 'changes' ->> 'occurredAt')::timestamptz, ",
                target_occurred_at!()
            )
        ),
        "DevelopmentRetracted" => append_one!(
            targets_live_development!(),
            project_retracted!(),
            target_occurred_at!()
        ),
        "StoryStatusChanged" => append_one!(" AND head.version IS NOT NULL", project_status!()),
        _ => return None,
    })
}

/// Several events not all reports, in one transaction: this statement,
/// then each event's projection in order (see
/// `snapshot::standalone_projection`); reports alone take
/// [`APPEND_REPORTS_SQL`].
const APPEND_MANY_SQL: &str = concat!(
    "INSERT INTO events (position, id, story_id, version, type, schema_version,
                         payload, metadata, occurred_at, recorded_at)
     SELECT xact.base + e.ord - 1, e.id, $1, coalesce(head.version, 0) + e.ord::int,
            e.type, e.schema_version, e.payload, $8,
            coalesce(e.occurred_at, now_.recorded_at), now_.recorded_at FROM ",
    story_head!("$1"),
    "CROSS JOIN unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::timestamptz[])
         WITH ORDINALITY AS e(id, type, schema_version, payload, occurred_at, ord) ",
    append_guards!("$2", "$9"),
    "RETURNING position, version, occurred_at, recorded_at"
);

/// Several DevelopmentReported events of one story (import's common case):
/// the events, their development rows and search documents and the story
/// row in one statement, so each payload crosses the wire and is parsed
/// once. Parallel arrays, one element per event: id, schema version,
/// payload, occurredAt (NULL: the payload's), search document. `$8` is the
/// metadata, `$9` the token digest.
const APPEND_REPORTS_SQL: &str = concat!(
    "WITH e AS (
        SELECT * FROM unnest($3::uuid[], $4::int[], $5::jsonb[], $6::timestamptz[], $7::text[])
            WITH ORDINALITY AS e(id, schema_version, payload, occurred_at, search, ord)
     ), ins AS (
        INSERT INTO events (position, id, story_id, version, type, schema_version,
                            payload, metadata, occurred_at, recorded_at)
        SELECT xact.base + e.ord - 1, e.id, $1, coalesce(head.version, 0) + e.ord::int,
               'DevelopmentReported', e.schema_version, e.payload, $8,
               coalesce(e.occurred_at, (e.payload ->> 'occurredAt')::timestamptz),
               now_.recorded_at
        FROM ",
    story_head!("$1"),
    "CROSS JOIN e ",
    append_guards!("$2", "$9"),
    " AND head.version IS NOT NULL
        RETURNING id, story_id, version, type, payload, position, occurred_at, recorded_at
     )",
    project_reported_rows!("e.search", "ins JOIN e ON e.id = ins.id"),
    ", header AS (
        UPDATE stories s SET version = last.version, updated_at = last.recorded_at
        FROM (SELECT version, recorded_at FROM ins ORDER BY version DESC LIMIT 1) AS last
        WHERE s.story_id = $1
     )
     SELECT position, version, occurred_at, recorded_at FROM ins"
);

/// One DevelopmentReported event for each of several stories, in one
/// statement (see `batch.rs`). Parallel arrays, one element per append:
/// story, expected version, event id, schema version, payload and metadata
/// as JSON text, occurredAt, token digest, search document. Returns the
/// appends that passed their checks, by event id.
pub(super) const APPEND_REPORTED_BATCH_SQL: &str = concat!(
    "WITH p AS (
        SELECT * FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::int[], $5::text[],
                             $6::timestamptz[], $7::text[], $8::bytea[], $9::text[])
            WITH ORDINALITY AS p(story, expected, id, schema_version, payload, occurred_at,
                                 metadata, token, search, ord)
     ), ins AS (
        INSERT INTO events (position, id, story_id, version, type, schema_version,
                            payload, metadata, occurred_at, recorded_at)
        SELECT xact.base + p.ord - 1, p.id, p.story, coalesce(head.version, 0) + 1,
               'DevelopmentReported', p.schema_version, p.payload::jsonb, p.metadata::jsonb,
               coalesce(p.occurred_at, (p.payload::jsonb ->> 'occurredAt')::timestamptz,
                        now_.recorded_at),
               now_.recorded_at
        FROM p CROSS JOIN ",
    story_head!("p.story"),
    append_guards!("p.expected", "p.token"),
    " AND head.version IS NOT NULL
        RETURNING id, story_id, version, type, payload, position, occurred_at, recorded_at
     ) ",
    project_reported!("p.search", "ins JOIN p ON p.id = ins.id"),
    " SELECT id, position, version, occurred_at, recorded_at FROM ins"
);

/// Why an append wrote nothing.
enum Refusal {
    Duplicate(Vec<RecordedEvent>),
    Failed(StoreError),
    Retry,
}

impl Store {
    /// Appends `events` to the story as one transaction.
    ///
    /// With `expected` the append succeeds only if the story is at exactly
    /// that version; without it, the events go at the current end. An append
    /// whose event ids are all stored already, with the same story, type and
    /// payload, returns the stored events with `deduplicated: true`.
    pub async fn append(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        metadata: &EventMetadata,
    ) -> Result<AppendOutcome, StoreError> {
        self.append_checked(story, expected, events, metadata, None)
            .await
    }

    /// [`Store::append`] on behalf of a token holder: nothing is appended
    /// unless the token is still live when the append commits
    /// ([`StoreError::TokenNotLive`]).
    pub async fn append_as(
        &self,
        credential: &Credential,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        metadata: &EventMetadata,
    ) -> Result<AppendOutcome, StoreError> {
        self.append_checked(story, expected, events, metadata, Some(credential.digest))
            .await
    }

    async fn append_checked(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        metadata: &EventMetadata,
        token: Option<TokenDigest>,
    ) -> Result<AppendOutcome, StoreError> {
        check_batch_size(events)?;
        let metadata = serde_json::to_value(metadata).map_err(sqlx::Error::decode)?;
        let token = token.as_ref();
        // Analysed once, however often the append is retried.
        let documents: Vec<Option<SearchDocument>> =
            events.iter().map(search::document_of).collect();
        for attempt in 0..MAX_ATTEMPTS {
            let inserted = match (events, documents.as_slice()) {
                // First in a batch with other writers' appends; on a retry,
                // alone, so that a failing batch cannot keep failing it.
                ([event], [document])
                    if attempt == 0
                        && self.group_appends
                        && event.event_type == "DevelopmentReported" =>
                {
                    self.insert_in_batch(story, expected, event, document, &metadata, token)
                        .await
                }
                _ => {
                    self.insert(story, expected, events, &documents, &metadata, token)
                        .await
                }
            };
            match inserted {
                Ok(mut placements) if placements.len() == events.len() => {
                    self.notifier.wake(story);
                    // Versions were given in batch order; RETURNING's own
                    // order is not promised.
                    placements.sort_unstable_by_key(|placed| placed.version);
                    let recorded = events
                        .iter()
                        .zip(placements)
                        .map(|(event, placed)| RecordedEvent {
                            position: Position(placed.position),
                            id: event.id,
                            story_id: story,
                            version: Version(placed.version),
                            event_type: event.event_type.clone(),
                            schema_version: event.schema_version,
                            payload: event.payload.clone(),
                            metadata: metadata.clone(),
                            occurred_at: placed.occurred_at,
                            recorded_at: placed.recorded_at,
                        })
                        .collect();
                    return Ok(AppendOutcome {
                        events: recorded,
                        deduplicated: false,
                    });
                }
                Ok(_) => {}
                Err(e) if is_clash_with_concurrent_append(&e) => {}
                Err(e) if is_slug_clash(&e) => {
                    // The same StoryOpened retried clashes on its slug too.
                    return match self.explain_refusal(story, expected, events, token).await? {
                        Refusal::Duplicate(stored) => Ok(AppendOutcome {
                            events: stored,
                            deduplicated: true,
                        }),
                        Refusal::Failed(e) => Err(e),
                        Refusal::Retry => Err(StoreError::SlugTaken(slug_of(events))),
                    };
                }
                Err(e) => return Err(e.into()),
            }
            match self.explain_refusal(story, expected, events, token).await? {
                Refusal::Duplicate(stored) => {
                    return Ok(AppendOutcome {
                        events: stored,
                        deduplicated: true,
                    })
                }
                Refusal::Failed(e) => return Err(e),
                Refusal::Retry => continue,
            }
        }
        Err(StoreError::Contention)
    }

    /// [`Store::insert`] of one reported development, in a batch with
    /// other callers' (see `batch.rs`); alone if the batch fails.
    async fn insert_in_batch(
        &self,
        story: StoryId,
        expected: Option<Version>,
        event: &NewEvent,
        document: &Option<SearchDocument>,
        metadata: &serde_json::Value,
        token: Option<&TokenDigest>,
    ) -> Result<Vec<Placement>, sqlx::Error> {
        let submission = Submission {
            story: story.0,
            expected: expected.map(|v| v.0),
            id: event.id.0,
            schema_version: event.schema_version,
            payload: event.payload.to_string(),
            // Read here, the batch statement need not parse the payload's
            // text a second time to find it.
            occurred_at: event
                .occurred_at
                .or_else(|| reported_occurred_at(&event.payload)),
            metadata: metadata.to_string(),
            token: token.copied(),
            search: document.as_ref().map(|d| d.as_str().to_owned()),
        };
        match self.batcher.submit(submission).await {
            Batched::Placed(placement) => Ok(vec![placement]),
            Batched::NotPlaced => Ok(Vec::new()),
            Batched::Failed => {
                self.insert(
                    story,
                    expected,
                    std::slice::from_ref(event),
                    std::slice::from_ref(document),
                    metadata,
                    token,
                )
                .await
            }
        }
    }

    /// Inserts the events at the story's head with their projection and
    /// search `documents` (one per event), or nothing if a check fails.
    async fn insert(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        documents: &[Option<SearchDocument>],
        metadata: &serde_json::Value,
        token: Option<&TokenDigest>,
    ) -> Result<Vec<Placement>, sqlx::Error> {
        let token = token.map(TokenDigest::as_bytes);
        if let ([event], [document]) = (events, documents) {
            let Some(sql) = append_one_sql(&event.event_type) else {
                return Ok(Vec::new());
            };
            let statement = sqlx::query_as::<_, Placement>(sql)
                .bind(story.0)
                .bind(expected.map(|v| v.0))
                .bind(event.id.0)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(&event.payload)
                .bind(event.occurred_at)
                .bind(metadata)
                .bind(token)
                .bind(document.as_ref().map(SearchDocument::as_str));
            if event.event_type != "DevelopmentCorrected" {
                return statement.fetch_all(&self.pool).await;
            }
            // A correction re-analyses its development once the statement
            // has merged it: one transaction around both.
            let mut tx = self.pool.begin().await?;
            let placements = statement.fetch_all(&mut *tx).await?;
            if !placements.is_empty() {
                search::reindex_corrected(&mut tx, story, &event.payload).await?;
                tx.commit().await?;
            }
            return Ok(placements);
        }
        let columns = Columns::of(events);
        if events.iter().all(|e| e.event_type == "DevelopmentReported") {
            let documents: Vec<Option<&str>> = documents
                .iter()
                .map(|d| d.as_ref().map(SearchDocument::as_str))
                .collect();
            return sqlx::query_as::<_, Placement>(APPEND_REPORTS_SQL)
                .bind(story.0)
                .bind(expected.map(|v| v.0))
                .bind(&columns.ids)
                .bind(&columns.schema_versions)
                .bind(&columns.payloads)
                .bind(&columns.occurred_at)
                .bind(&documents)
                .bind(metadata)
                .bind(token)
                .fetch_all(&self.pool)
                .await;
        }
        let mut tx = self.pool.begin().await?;
        let mut placements = sqlx::query_as::<_, Placement>(APPEND_MANY_SQL)
            .bind(story.0)
            .bind(expected.map(|v| v.0))
            .bind(&columns.ids)
            .bind(&columns.types)
            .bind(&columns.schema_versions)
            .bind(&columns.payloads)
            .bind(&columns.occurred_at)
            .bind(metadata)
            .bind(token)
            .fetch_all(&mut *tx)
            .await?;
        if placements.len() != events.len() {
            return Ok(Vec::new());
        }
        placements.sort_unstable_by_key(|placed| placed.version);
        let projected: Vec<Projected<'_>> = events
            .iter()
            .zip(&placements)
            .zip(documents)
            .map(|((event, placed), document)| Projected {
                event_type: &event.event_type,
                payload: &event.payload,
                version: placed.version,
                occurred_at: placed.occurred_at,
                recorded_at: placed.recorded_at,
                search: document.as_ref().map(SearchDocument::as_str),
            })
            .collect();
        if !project(&mut tx, story, &projected).await? {
            // A rule of the fold is broken; dropping `tx` rolls back.
            return Ok(Vec::new());
        }
        tx.commit().await?;
        Ok(placements)
    }

    /// Works out why an append inserted nothing: the caller's token is no
    /// longer live, its ids were used before (a retry, or a misuse), or the
    /// story was not at the expected version, or it lost a race and may
    /// simply try again.
    async fn explain_refusal(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        token: Option<&TokenDigest>,
    ) -> Result<Refusal, StoreError> {
        if let Some(token) = token {
            if !self.is_live(token).await? {
                return Ok(Refusal::Failed(StoreError::TokenNotLive));
            }
        }
        let columns = Columns::of(events);
        let used: Vec<(Uuid, bool)> = sqlx::query_as(
            r#"
            SELECT e.id, (e.story_id = $1 AND e.type = i.type AND e.payload = i.payload)
            FROM unnest($2::uuid[], $3::text[], $4::jsonb[]) AS i(id, type, payload)
            JOIN events e ON e.id = i.id
            "#,
        )
        .bind(story.0)
        .bind(&columns.ids)
        .bind(&columns.types)
        .bind(&columns.payloads)
        .fetch_all(&self.pool)
        .await?;
        if let Some((id, _)) = used.iter().find(|(_, same)| !same) {
            return Ok(Refusal::Failed(StoreError::EventIdReused(EventId(*id))));
        }
        if used.len() == columns.ids.len() {
            return Ok(Refusal::Duplicate(
                self.read_events_by_id(&columns.ids).await?,
            ));
        }
        if let Some((id, _)) = used.first() {
            // Some of the ids are stored and some are not: not a retry of
            // one earlier call, so it must not pass as one.
            return Ok(Refusal::Failed(StoreError::EventIdReused(EventId(*id))));
        }
        let actual = self.current_version(story).await?;
        if let Some(expected) = expected.filter(|&expected| expected != actual) {
            return Ok(Refusal::Failed(StoreError::VersionConflict {
                expected,
                actual,
            }));
        }
        match self.first_broken_rule(story, events).await? {
            Some(broken) => Ok(Refusal::Failed(broken)),
            None => Ok(Refusal::Retry),
        }
    }

    /// Whether the events, in order, break a rule of the fold against the
    /// story as it stands now; the statements check the same rules, this
    /// says which.
    async fn first_broken_rule(
        &self,
        story: StoryId,
        events: &[NewEvent],
    ) -> Result<Option<StoreError>, StoreError> {
        let mut fold = self
            .load_snapshot(story)
            .await?
            .unwrap_or_else(|| StoryFold::empty(story));
        let now = chrono::Utc::now();
        for event in events {
            let decoded = StoryEvent::from_payload(
                &event.event_type,
                event.schema_version,
                event.payload.clone(),
            );
            let decoded = match decoded {
                Ok(decoded) => decoded,
                Err(e) => return Ok(Some(StoreError::Undecodable(e))),
            };
            let next = fold.version.next();
            if let Err(broken) = apply(&mut fold, next, now, &decoded) {
                return Ok(Some(StoreError::Rule(broken)));
            }
        }
        Ok(None)
    }

    /// The story opened with this slug, if any.
    pub async fn find_story_by_slug(&self, slug: &str) -> Result<Option<StoryId>, StoreError> {
        let story: Option<Uuid> = sqlx::query_scalar(
            "SELECT story_id FROM events WHERE type = 'StoryOpened' AND payload ->> 'slug' = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        Ok(story.map(StoryId))
    }

    /// Stored events among `ids`, in position order.
    pub async fn events_with_ids(&self, ids: &[EventId]) -> Result<Vec<RecordedEvent>, StoreError> {
        let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
        self.read_events_by_id(&ids).await
    }

    /// The story's version: the number of events in its stream.
    pub async fn current_version(&self, story: StoryId) -> Result<Version, StoreError> {
        let version: Option<i32> = sqlx::query_scalar(
            "SELECT version FROM events WHERE story_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(story.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(Version(version.unwrap_or(0)))
    }

    async fn read_events_by_id(&self, ids: &[Uuid]) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ANY($1) ORDER BY position");
        let rows = sqlx::query_as::<_, EventRow>(&sql)
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(RecordedEvent::from).collect())
    }
}

/// A DevelopmentReported payload's occurredAt (its Event.occurredAt).
fn reported_occurred_at(payload: &serde_json::Value) -> Option<DateTime<Utc>> {
    let text = payload.get("occurredAt")?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

fn check_batch_size(events: &[NewEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Err(StoreError::EmptyAppend);
    }
    if events.len() > MAX_EVENTS_PER_TRANSACTION {
        return Err(StoreError::TooManyEvents);
    }
    let mut ids: Vec<EventId> = events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(StoreError::EventIdRepeated(pair[0])),
        None => Ok(()),
    }
}

/// A unique violation on the event id, on (story, version) or on (story,
/// development) (of the snapshot or of its search documents) means the id
/// was used or another writer got there first: `explain_refusal` tells
/// which. Any other error is a real failure.
fn is_clash_with_concurrent_append(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(e) => matches!(
            e.constraint(),
            Some("events_id_key")
                | Some("events_story_version_key")
                | Some("story_developments_pkey")
                | Some("story_search_pkey")
        ),
        _ => false,
    }
}

fn is_slug_clash(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e)
        if matches!(e.constraint(), Some("events_story_slug_key") | Some("stories_slug_key")))
}

fn slug_of(events: &[NewEvent]) -> String {
    events
        .iter()
        .find_map(|e| e.payload.get("slug").and_then(serde_json::Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

/// The batch as parallel arrays, the shape `unnest` takes, borrowing the
/// payloads rather than copying them.
struct Columns<'a> {
    ids: Vec<Uuid>,
    types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    payloads: Vec<&'a serde_json::Value>,
    occurred_at: Vec<Option<DateTime<Utc>>>,
}

impl Columns<'_> {
    fn of(events: &[NewEvent]) -> Columns<'_> {
        Columns {
            ids: events.iter().map(|e| e.id.0).collect(),
            types: events.iter().map(|e| e.event_type.as_str()).collect(),
            schema_versions: events.iter().map(|e| e.schema_version).collect(),
            payloads: events.iter().map(|e| &e.payload).collect(),
            occurred_at: events.iter().map(|e| e.occurred_at).collect(),
        }
    }
}
