//! The story snapshot projection: SQL that keeps `stories` and
//! `story_developments` in step with each event, and reads them back as a
//! fold.
//!
//! The projection of one event is written as CTEs over a one-row relation
//! `ins(story_id, version, type, payload, occurred_at, recorded_at)`. The
//! single-event append makes `ins` its own INSERT ... RETURNING, so event and
//! projection commit in one statement; the batch append binds `ins` from
//! parameters, one statement per event, inside its transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::events::DevelopmentReported;
use crate::domain::fold::{DevelopmentRecord, RetractedRecord, StoryFold};
use crate::domain::model::StoryStatus;
use crate::domain::{StoryId, Version};

/// `projected` returns one row per projection row it wrote; a rule broken
/// (unknown development, say) shows as none.
/// `$document` is the story's search document (tsvector text).
macro_rules! project_opened {
    ($document:literal) => {
        concat!(
            ", projected AS (
                INSERT INTO stories (story_id, slug, title, summary, topics, status, version,
                                     created_at, updated_at)
                SELECT story_id, payload ->> 'slug', payload ->> 'title', payload ->> 'summary',
                       coalesce(payload -> 'topics', '[]'::jsonb), 'DEVELOPING', version,
                       recorded_at, recorded_at
                FROM ins
                RETURNING 1
            ), searched AS (
                INSERT INTO story_search (story_id, development_id, search)
                SELECT story_id, '",
            $crate::store::search::STORY_DOCUMENT_ID!(),
            "'::uuid, ",
            $document,
            "::tsvector FROM ins
            ) "
        )
    };
}

macro_rules! project_header {
    () => {
        "header AS (
            UPDATE stories s
            SET version = ins.version, updated_at = ins.recorded_at,
                status = CASE WHEN ins.type = 'StoryStatusChanged'
                              THEN ins.payload ->> 'status' ELSE s.status END
            FROM ins WHERE s.story_id = ins.story_id
            RETURNING 1
        ) "
    };
}

/// The development rows and search documents of the DevelopmentReported
/// events in `ins`. `$document` is a development's search document
/// (tsvector text), `$source` the FROM items that give `ins` and
/// `$document`.
macro_rules! project_reported_rows {
    ($document:literal, $source:literal) => {
        concat!(
            ", projected AS (
                INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                                reported_in_version)
                SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
                       (payload ->> 'occurredAt')::timestamptz, version
                FROM ins
                RETURNING 1
            ), searched AS (
                INSERT INTO story_search (story_id, development_id, search)
                SELECT ins.story_id, (ins.payload ->> 'developmentId')::uuid, ",
            $document,
            "::tsvector FROM ",
            $source,
            "
            ) "
        )
    };
}

/// [`project_reported_rows`] and the story row, for `ins` holding at most
/// one event per story.
macro_rules! project_reported {
    ($document:literal) => {
        $crate::store::snapshot::project_reported!($document, "ins")
    };
    ($document:literal, $source:literal) => {
        concat!(
            $crate::store::snapshot::project_reported_rows!($document, $source),
            ", ",
            $crate::store::snapshot::project_header!()
        )
    };
}

/// The development an event names, if it is live: corrections and
/// retractions touch no other row.
macro_rules! live_target {
    () => {
        " FROM ins
          WHERE d.story_id = ins.story_id
            AND d.development_id = (ins.payload ->> 'developmentId')::uuid
            AND d.retracted_in_version IS NULL "
    };
}

macro_rules! project_corrected {
    () => {
        concat!(
            ", projected AS (
                UPDATE story_developments d
                SET payload = d.payload || (ins.payload -> 'changes'),
                    occurred_at = coalesce((ins.payload -> 'changes' ->> 'occurredAt')::timestamptz,
                                           d.occurred_at),
                    corrected_in_versions = d.corrected_in_versions || ins.version
                ",
            $crate::store::snapshot::live_target!(),
            "RETURNING 1
            ), ",
            $crate::store::snapshot::project_header!()
        )
    };
}

/// A retracted development leaves the search model with its live state.
macro_rules! project_retracted {
    () => {
        concat!(
            ", projected AS (
                UPDATE story_developments d
                SET retracted_in_version = ins.version, retraction_reason = ins.payload ->> 'reason'
                ",
            $crate::store::snapshot::live_target!(),
            "RETURNING 1
            ), unsearched AS (
                DELETE FROM story_search s USING ins
                WHERE s.story_id = ins.story_id
                  AND s.development_id = (ins.payload ->> 'developmentId')::uuid
            ), ",
            $crate::store::snapshot::project_header!()
        )
    };
}

macro_rules! project_status {
    () => {
        concat!(
            ", ",
            $crate::store::snapshot::project_header!(),
            ", projected AS (SELECT 1 FROM header) "
        )
    };
}

pub(super) use {
    live_target, project_corrected, project_header, project_opened, project_reported,
    project_reported_rows, project_retracted, project_status,
};

/// `ins` bound from parameters, for appends of several events; `$7` is
/// the event's search document, if it has one.
macro_rules! bound_ins {
    () => {
        "WITH ins AS (
            SELECT $1::uuid AS story_id, $2::int AS version, $3::text AS type,
                   $4::jsonb AS payload, $5::timestamptz AS occurred_at,
                   $6::timestamptz AS recorded_at
        ) "
    };
}

macro_rules! count_projected {
    () => {
        " SELECT count(*) FROM projected"
    };
}

/// A run of DevelopmentReported events of one batch, in one statement:
/// import's common case. `$5`/`$6` are the run's last version and time,
/// `$7` the search documents.
const PROJECT_REPORTED_RUN: &str = "
    WITH r AS (
        SELECT * FROM unnest($2::jsonb[], $3::timestamptz[], $4::int[], $7::text[])
            AS r(payload, occurred_at, version, search)
    ), projected AS (
        INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                        reported_in_version)
        SELECT $1, (r.payload ->> 'developmentId')::uuid, r.payload,
               (r.payload ->> 'occurredAt')::timestamptz, r.version
        FROM r
        RETURNING 1
    ), searched AS (
        INSERT INTO story_search (story_id, development_id, search)
        SELECT $1, (r.payload ->> 'developmentId')::uuid, r.search::tsvector FROM r
    ), header AS (
        UPDATE stories SET version = $5, updated_at = $6 WHERE story_id = $1
        RETURNING 1
    )
    SELECT count(*) FROM projected";

/// One stored event, as the projection needs it.
pub(super) struct Projected<'a> {
    pub event_type: &'a str,
    pub payload: &'a serde_json::Value,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The search document of a StoryOpened or DevelopmentReported event.
    pub search: Option<&'a str>,
}

/// Projects a story's events, in version order, on `conn` (inside the
/// caller's transaction). Runs of DevelopmentReported go in one statement.
/// False when an event breaks a rule of the fold (nothing to correct, say):
/// the caller must roll back.
pub(super) async fn project(
    conn: &mut PgConnection,
    story: StoryId,
    events: &[Projected<'_>],
) -> Result<bool, sqlx::Error> {
    let is_report = |e: &Projected<'_>| e.event_type == "DevelopmentReported";
    for run in events.chunk_by(|a, b| is_report(a) && is_report(b)) {
        let projected: i64 = match run {
            [one] if !is_report(one) => {
                let Some(sql) = standalone_projection(one.event_type) else {
                    return Ok(false);
                };
                sqlx::query_scalar(sql)
                    .bind(story.0)
                    .bind(one.version)
                    .bind(one.event_type)
                    .bind(one.payload)
                    .bind(one.occurred_at)
                    .bind(one.recorded_at)
                    .bind(one.search)
                    .fetch_one(&mut *conn)
                    .await?
            }
            reports => project_reports(&mut *conn, story, reports).await?,
        };
        if projected != run.len() as i64 {
            return Ok(false);
        }
        if let [one] = run {
            if one.event_type == "DevelopmentCorrected" {
                super::search::reindex_corrected(&mut *conn, story, one.payload).await?;
            }
        }
    }
    Ok(true)
}

async fn project_reports(
    conn: &mut PgConnection,
    story: StoryId,
    reports: &[Projected<'_>],
) -> Result<i64, sqlx::Error> {
    let Some(last) = reports.last() else {
        return Ok(0);
    };
    let payloads: Vec<&serde_json::Value> = reports.iter().map(|e| e.payload).collect();
    let occurred: Vec<DateTime<Utc>> = reports.iter().map(|e| e.occurred_at).collect();
    let versions: Vec<i32> = reports.iter().map(|e| e.version).collect();
    let searches: Vec<Option<&str>> = reports.iter().map(|e| e.search).collect();
    sqlx::query_scalar(PROJECT_REPORTED_RUN)
        .bind(story.0)
        .bind(payloads)
        .bind(occurred)
        .bind(versions)
        .bind(last.version)
        .bind(last.recorded_at)
        .bind(searches)
        .fetch_one(conn)
        .await
}

/// The standalone projection statement of an event type.
fn standalone_projection(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "StoryOpened" => concat!(bound_ins!(), project_opened!("$7"), count_projected!()),
        "DevelopmentReported" => concat!(bound_ins!(), project_reported!("$7"), count_projected!()),
        "DevelopmentCorrected" => concat!(bound_ins!(), project_corrected!(), count_projected!()),
        "DevelopmentRetracted" => concat!(bound_ins!(), project_retracted!(), count_projected!()),
        "StoryStatusChanged" => concat!(bound_ins!(), project_status!(), count_projected!()),
        _ => return None,
    })
}

#[derive(sqlx::FromRow)]
struct StoryRow {
    story_id: Uuid,
    slug: String,
    title: String,
    summary: Option<String>,
    topics: serde_json::Value,
    status: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DevelopmentRow {
    story_id: Uuid,
    development_id: Uuid,
    /// As text: parsed straight into the payload type.
    payload: String,
    occurred_at: DateTime<Utc>,
    reported_in_version: i32,
    corrected_in_versions: Vec<i32>,
    retracted_in_version: Option<i32>,
    retraction_reason: Option<String>,
}

impl Store {
    /// The story's current state from the projection, as a fold, or `None`
    /// when no such story exists.
    pub async fn load_snapshot(&self, story: StoryId) -> Result<Option<StoryFold>, StoreError> {
        Ok(self.load_snapshots(&[story]).await?.remove(&story))
    }

    /// The current state of each of `stories` that exists, in two
    /// statements however many they are.
    pub async fn load_snapshots(
        &self,
        stories: &[StoryId],
    ) -> Result<HashMap<StoryId, StoryFold>, StoreError> {
        let ids: Vec<Uuid> = stories.iter().map(|s| s.0).collect();
        let headers: Vec<StoryRow> = sqlx::query_as(
            "SELECT story_id, slug, title, summary, topics, status, version, created_at, updated_at
             FROM stories WHERE story_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        if headers.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<DevelopmentRow> = sqlx::query_as(
            "SELECT story_id, development_id, payload::text AS payload, occurred_at,
                    reported_in_version,
                    corrected_in_versions, retracted_in_version, retraction_reason
             FROM story_developments WHERE story_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut by_story: HashMap<Uuid, Vec<DevelopmentRow>> = HashMap::new();
        for row in rows {
            by_story.entry(row.story_id).or_default().push(row);
        }
        headers
            .into_iter()
            .map(|header| {
                let rows = by_story.remove(&header.story_id).unwrap_or_default();
                let id = StoryId(header.story_id);
                fold_from_rows(header, rows).map(|fold| (id, fold))
            })
            .collect()
    }

    /// Story ids after `after` in id order, for walking every story.
    pub async fn story_ids_after(
        &self,
        after: Option<StoryId>,
        limit: i64,
    ) -> Result<Vec<StoryId>, StoreError> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT DISTINCT story_id FROM events WHERE story_id > $1 ORDER BY story_id LIMIT $2",
        )
        .bind(after.map_or(Uuid::nil(), |s| s.0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(StoryId).collect())
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "unreadable projection row: {what}"
    )))
}

fn fold_from_rows(header: StoryRow, rows: Vec<DevelopmentRow>) -> Result<StoryFold, StoreError> {
    let status: StoryStatus =
        serde_json::from_value(serde_json::Value::String(header.status)).map_err(corrupt)?;
    let mut fold = StoryFold::empty(StoryId(header.story_id));
    fold.slug = header.slug;
    fold.title = header.title;
    fold.summary = header.summary;
    fold.topics = serde_json::from_value(header.topics).map_err(corrupt)?;
    fold.status = status;
    fold.version = Version(header.version);
    fold.opened_at = Some(header.created_at);
    fold.updated_at = Some(header.updated_at);
    let mut developments = HashMap::with_capacity(rows.len());
    let mut retracted = Vec::new();
    for row in rows {
        let reported: DevelopmentReported = serde_json::from_str(&row.payload).map_err(corrupt)?;
        match row.retracted_in_version {
            Some(version) => retracted.push(RetractedRecord {
                id: row.development_id,
                headline: reported.headline,
                reason: row.retraction_reason.unwrap_or_default(),
                retracted_in_version: Version(version),
                occurred_at: row.occurred_at,
            }),
            None => {
                developments.insert(
                    row.development_id,
                    DevelopmentRecord {
                        id: row.development_id,
                        headline: reported.headline,
                        summary: reported.summary,
                        occurred_at: row.occurred_at,
                        precision: reported.precision,
                        location: reported.location,
                        actors: reported.actors,
                        quotes: reported.quotes,
                        figures: reported.figures,
                        stances: reported.stances,
                        sources: reported.sources,
                        tags: reported.tags,
                        reported_in_version: Version(row.reported_in_version),
                        corrected_in_versions: row
                            .corrected_in_versions
                            .into_iter()
                            .map(Version)
                            .collect(),
                    },
                );
            }
        }
    }
    retracted.sort_by_key(|r| r.retracted_in_version);
    fold.developments = developments;
    fold.retracted = retracted;
    Ok(fold)
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub stories: u64,
    pub events: u64,
}

/// The projection of every event at once, set-based: what the per-event
/// statements above do one event at a time, for the whole table. Several
/// corrections of one development merge into one patch, the latest value
/// of each field winning, which is what applying them in order does. The
/// property test and `verify` hold both forms to the fold. Payloads are
/// read as they are stored: a future schema version must upcast here too.
const REBUILD_STAGES: [&str; 4] = [
    "INSERT INTO stories (story_id, slug, title, summary, topics, status, version,
                          created_at, updated_at)
     SELECT o.story_id, o.payload ->> 'slug', o.payload ->> 'title', o.payload ->> 'summary',
            coalesce(o.payload -> 'topics', '[]'::jsonb), coalesce(st.status, 'DEVELOPING'),
            last.version, o.recorded_at, last.recorded_at
     FROM events o
     CROSS JOIN LATERAL (
         SELECT version, recorded_at FROM events e
         WHERE e.story_id = o.story_id ORDER BY version DESC LIMIT 1
     ) AS last
     LEFT JOIN LATERAL (
         SELECT payload ->> 'status' AS status FROM events e
         WHERE e.story_id = o.story_id AND e.type = 'StoryStatusChanged'
         ORDER BY version DESC LIMIT 1
     ) AS st ON true
     WHERE o.type = 'StoryOpened'",
    "INSERT INTO story_developments (story_id, development_id, payload, occurred_at,
                                     reported_in_version)
     SELECT story_id, (payload ->> 'developmentId')::uuid, payload,
            (payload ->> 'occurredAt')::timestamptz, version
     FROM events WHERE type = 'DevelopmentReported'",
    "WITH corrections AS (
         SELECT story_id, (payload ->> 'developmentId')::uuid AS development_id, version,
                payload -> 'changes' AS changes
         FROM events WHERE type = 'DevelopmentCorrected'
     ), merged AS (
         SELECT c.story_id, c.development_id,
                coalesce(jsonb_object_agg(field.key, field.value ORDER BY c.version)
                             FILTER (WHERE field.key IS NOT NULL), '{}'::jsonb) AS changes,
                array_agg(DISTINCT c.version ORDER BY c.version) AS versions
         FROM corrections c LEFT JOIN LATERAL jsonb_each(c.changes) AS field ON true
         GROUP BY c.story_id, c.development_id
     )
     UPDATE story_developments d
     SET payload = d.payload || m.changes,
         occurred_at = coalesce((m.changes ->> 'occurredAt')::timestamptz, d.occurred_at),
         corrected_in_versions = m.versions
     FROM merged m
     WHERE d.story_id = m.story_id AND d.development_id = m.development_id",
    "UPDATE story_developments d
     SET retracted_in_version = e.version, retraction_reason = e.payload ->> 'reason'
     FROM events e
     WHERE e.type = 'DevelopmentRetracted' AND d.story_id = e.story_id
       AND d.development_id = (e.payload ->> 'developmentId')::uuid",
];

/// Where a rebuild builds its fresh tables before swapping them in.
const REBUILD_SCHEMA: &str = "storyline_rebuild";

impl Store {
    /// Projects every event into fresh tables and swaps them in, in one
    /// transaction. Appends wait meanwhile (a SHARE lock on events); readers
    /// keep reading the old tables until the swap. `on_progress` gets the
    /// events replayed.
    pub async fn rebuild_snapshots(
        &self,
        mut on_progress: impl FnMut(u64),
    ) -> Result<RebuildReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
        let home: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut *tx)
            .await?;
        for statement in [
            format!("DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"),
            format!("CREATE SCHEMA {REBUILD_SCHEMA}"),
            // Indexes come after the data: building one over a full table
            // is several times cheaper than updating it row by row.
            format!(
                "CREATE TABLE {REBUILD_SCHEMA}.stories (LIKE stories INCLUDING ALL EXCLUDING INDEXES)"
            ),
            format!(
                "CREATE TABLE {REBUILD_SCHEMA}.story_developments \
                 (LIKE story_developments INCLUDING ALL EXCLUDING INDEXES)"
            ),
            format!(
                "CREATE TABLE {REBUILD_SCHEMA}.story_search \
                 (LIKE story_search INCLUDING ALL EXCLUDING INDEXES)"
            ),
        ] {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        copy_storage_options(&mut tx, "stories").await?;
        // The statements name their tables unqualified: with the rebuild
        // schema first on the path they write the fresh tables, and `events`
        // still resolves to the real one.
        sqlx::query(&format!(
            "SET LOCAL search_path = {REBUILD_SCHEMA}, \"{home}\""
        ))
        .execute(&mut *tx)
        .await?;

        let mut report = RebuildReport::default();
        for (stage, statement) in REBUILD_STAGES.iter().enumerate() {
            let done = sqlx::query(statement)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if stage == 0 {
                report.stories = done;
            }
        }
        // The search documents, analysed here from the fresh tables.
        super::search::fill_search(&mut tx).await?;
        super::search::mark_analyzed(&mut tx).await?;
        for table in PROJECTION_TABLES {
            copy_indexes(&mut tx, &home, table).await?;
        }
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut *tx)
            .await?;
        report.events = u64::try_from(events).unwrap_or_default();
        on_progress(report.events);

        for statement in [
            format!(
                "DROP TABLE \"{home}\".story_search, \"{home}\".story_developments, \
                 \"{home}\".stories"
            ),
            format!("ALTER TABLE {REBUILD_SCHEMA}.stories SET SCHEMA \"{home}\""),
            format!("ALTER TABLE {REBUILD_SCHEMA}.story_developments SET SCHEMA \"{home}\""),
            format!("ALTER TABLE {REBUILD_SCHEMA}.story_search SET SCHEMA \"{home}\""),
            format!("DROP SCHEMA {REBUILD_SCHEMA}"),
        ] {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        // Stored folds of older fold code are never used again.
        sqlx::query("DELETE FROM replay_snapshots WHERE fold_version <> $1")
            .bind(crate::domain::fold::FOLD_VERSION)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The tables a rebuild replaces.
const PROJECTION_TABLES: [&str; 3] = ["stories", "story_developments", "story_search"];

/// Gives the fresh `table` the keys and indexes of the live one, then
/// fresh planner statistics.
async fn copy_indexes(conn: &mut PgConnection, home: &str, table: &str) -> Result<(), StoreError> {
    let live = format!("\"{home}\".{table}");
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = $1::regclass AND contype IN ('p', 'u')",
    )
    .bind(&live)
    .fetch_all(&mut *conn)
    .await?;
    for (name, definition) in keys {
        let sql =
            format!("ALTER TABLE {REBUILD_SCHEMA}.{table} ADD CONSTRAINT \"{name}\" {definition}");
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    let indexes: Vec<(String, bool, String)> = sqlx::query_as(
        "SELECT i.relname::text, x.indisunique, pg_get_indexdef(x.indexrelid)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = $1::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .bind(&live)
    .fetch_all(&mut *conn)
    .await?;
    for (name, unique, definition) in indexes {
        // "CREATE INDEX name ON schema.table USING method (...)": keep what
        // follows USING, aim the rest at the fresh table.
        let Some((_, method_and_columns)) = definition.split_once(" USING ") else {
            return Err(corrupt(format!("unexpected index definition {definition}")));
        };
        let unique = if unique { "UNIQUE " } else { "" };
        let sql = format!(
            "CREATE {unique}INDEX \"{name}\" ON {REBUILD_SCHEMA}.{table} USING {method_and_columns}"
        );
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    sqlx::query(&format!("ANALYZE {REBUILD_SCHEMA}.{table}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// LIKE copies columns, constraints and indexes but not storage options
/// such as fillfactor.
async fn copy_storage_options(conn: &mut PgConnection, table: &str) -> Result<(), StoreError> {
    let options: Option<Vec<String>> =
        sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE oid = $1::regclass")
            .bind(table)
            .fetch_one(&mut *conn)
            .await?;
    if let Some(options) = options.filter(|o| !o.is_empty()) {
        let sql = format!(
            "ALTER TABLE {REBUILD_SCHEMA}.{table} SET ({})",
            options.join(", ")
        );
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}
