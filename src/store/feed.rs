//! Reading events: one story's stream by version, and the global feed by
//! position.
//!
//! # The ordering guarantee
//!
//! A reader of the global feed that has seen position p must never later meet
//! a new event at a position <= p. Positions are `(transaction id << 16) +
//! index`, so they follow the order in which writers took their transaction
//! ids, not the order in which they commit. The feed therefore returns only
//! events whose transaction id lies below `pg_snapshot_xmin` of the reading
//! statement's snapshot: every transaction below it has finished, and every
//! transaction still running, or yet to start, has a larger id and so writes
//! larger positions. Writers share no lock and no sequence; a committed event
//! becomes readable once every older writer has finished (milliseconds for
//! storyline's one-statement appends).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use uuid::Uuid;

use super::{RecordedEvent, Store, StoreError};
use crate::domain::replay::RecordedStoryEvent;
use crate::domain::{EventId, Position, StoryId, Version};

/// The columns of [`EventRow`], in a form every SELECT can reuse.
pub(super) const EVENT_COLUMNS: &str = "position, id, story_id, version, type AS event_type, \
     schema_version, payload, metadata, occurred_at, recorded_at";

/// The first position that a transaction still running (or not yet begun)
/// could write, as seen by the current statement's snapshot.
pub(super) const FIRST_UNSETTLED_POSITION: &str =
    "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16)";

/// `$2` event types, `$3`/`$4` occurredAt bounds (inclusive), each NULL
/// when absent.
const HISTORY_FILTER: &str = "($2::text[] IS NULL OR type = ANY($2))
     AND ($3::timestamptz IS NULL OR occurred_at >= $3)
     AND ($4::timestamptz IS NULL OR occurred_at <= $4)";

/// Which events of the global feed to read. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedFilter {
    pub story: Option<StoryId>,
    pub types: Option<Vec<String>>,
}

impl FeedFilter {
    /// Every event.
    pub fn all() -> FeedFilter {
        FeedFilter::default()
    }

    /// Every event of one story.
    pub fn story(story: StoryId) -> FeedFilter {
        FeedFilter {
            story: Some(story),
            types: None,
        }
    }

    /// Whether `event` passes the filter: what [`Store::read_feed`]'s
    /// conditions select, for events that arrive without a query (live).
    pub fn admits(&self, event: &RecordedEvent) -> bool {
        self.story.is_none_or(|story| story == event.story_id)
            && self
                .types
                .as_ref()
                .is_none_or(|types| types.contains(&event.event_type))
    }
}

/// Which events of a story's history to read. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    pub types: Option<Vec<String>>,
    pub occurred_from: Option<DateTime<Utc>>,
    pub occurred_to: Option<DateTime<Utc>>,
}

/// Versions strictly between `after` and `before`; `None` leaves that end
/// open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionWindow {
    pub after: Option<Version>,
    pub before: Option<Version>,
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    position: i64,
    id: Uuid,
    story_id: Uuid,
    version: i32,
    event_type: String,
    schema_version: i32,
    payload: serde_json::Value,
    metadata: serde_json::Value,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
}

impl From<EventRow> for RecordedEvent {
    fn from(row: EventRow) -> Self {
        RecordedEvent {
            position: Position(row.position),
            id: EventId(row.id),
            story_id: StoryId(row.story_id),
            version: Version(row.version),
            event_type: row.event_type,
            schema_version: row.schema_version,
            payload: row.payload,
            metadata: row.metadata,
            occurred_at: row.occurred_at,
            recorded_at: row.recorded_at,
        }
    }
}

impl Store {
    /// A story's events with `from <= version <= to`, in version order.
    pub async fn read_stream(
        &self,
        story: StoryId,
        from: Version,
        to: Option<Version>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE story_id = $1 AND version >= $2 AND version <= $3 ORDER BY version"
        );
        let rows = sqlx::query_as::<_, EventRow>(&sql)
            .bind(story.0)
            .bind(from.0)
            .bind(to.map_or(i32::MAX, |v| v.0))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(RecordedEvent::from).collect())
    }

    /// A story's whole stream as domain events, payloads upcast.
    pub async fn read_story(&self, story: StoryId) -> Result<Vec<RecordedStoryEvent>, StoreError> {
        self.read_stream(story, Version(1), None)
            .await?
            .iter()
            .map(RecordedEvent::decode)
            .collect::<Result<_, _>>()
            .map_err(StoreError::Undecodable)
    }

    /// Up to `limit` events after `after` in global order, of the stories
    /// and types `filter` names, holding back any event that a still-running
    /// writer could yet precede (see the module documentation).
    pub async fn read_feed(
        &self,
        after: Position,
        limit: i64,
        filter: &FeedFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // Two statements rather than `$3 IS NULL OR story_id = $3`, so each
        // keeps its own plan: by position alone, or by the story's index.
        let story_clause = match filter.story {
            None => "$3::uuid IS NULL",
            Some(_) => "story_id = $3",
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE {story_clause} AND ($4::text[] IS NULL OR type = ANY($4))
               AND position > $1 AND position < {FIRST_UNSETTLED_POSITION}
             ORDER BY position LIMIT $2"
        );
        let rows = sqlx::query_as::<_, EventRow>(&sql)
            .bind(after.0)
            .bind(limit)
            .bind(filter.story.map(|s| s.0))
            .bind(filter.types.as_deref())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(RecordedEvent::from).collect())
    }

    /// How many settled events `filter` matches.
    pub async fn count_feed(&self, filter: &FeedFilter) -> Result<i64, StoreError> {
        let sql = format!(
            "SELECT count(*) FROM events
             WHERE ($1::uuid IS NULL OR story_id = $1) AND ($2::text[] IS NULL OR type = ANY($2))
               AND position < {FIRST_UNSETTLED_POSITION}"
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .bind(filter.story.map(|s| s.0))
            .bind(filter.types.as_deref())
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// One page of a story's history in version order: up to `limit`
    /// events strictly between `window.after` and `window.before` that
    /// `filter` keeps, the first ones or (with `from_end`) the last ones.
    pub async fn read_history(
        &self,
        story: StoryId,
        filter: &HistoryFilter,
        window: VersionWindow,
        limit: i64,
        from_end: bool,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let direction = if from_end { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE story_id = $1 AND {HISTORY_FILTER}
               AND version > $5 AND version < $6
             ORDER BY version {direction} LIMIT $7"
        );
        let mut rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(story.0)
            .bind(filter.types.as_deref())
            .bind(filter.occurred_from)
            .bind(filter.occurred_to)
            .bind(window.after.map_or(0, |v| v.0))
            .bind(window.before.map_or(i32::MAX, |v| v.0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        if from_end {
            rows.reverse();
        }
        Ok(rows.into_iter().map(RecordedEvent::from).collect())
    }

    /// How many of the story's events `filter` keeps.
    pub async fn count_history(
        &self,
        story: StoryId,
        filter: &HistoryFilter,
    ) -> Result<i64, StoreError> {
        let sql = format!("SELECT count(*) FROM events WHERE story_id = $1 AND {HISTORY_FILTER}");
        let count: i64 = sqlx::query_scalar(&sql)
            .bind(story.0)
            .bind(filter.types.as_deref())
            .bind(filter.occurred_from)
            .bind(filter.occurred_to)
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Waits until every transaction that had begun when it was called has
    /// finished, so the feed then holds every event committed before the
    /// call. Readers that must see "everything so far" (export, verify) call
    /// it first. Transaction ids are cluster-wide: a long transaction in
    /// any database of the cluster delays this, and the feed, until it ends.
    pub async fn wait_until_settled(&self, timeout: Duration) -> Result<(), StoreError> {
        let target: i64 =
            sqlx::query_scalar("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
                .fetch_one(&self.pool)
                .await?;
        let deadline = Instant::now() + timeout;
        loop {
            let oldest_running: i64 =
                sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                    .fetch_one(&self.pool)
                    .await?;
            if oldest_running >= target {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StoreError::NotSettled);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The position a live reader starting now should read after: every
    /// event at or below it is settled, every later one will be delivered.
    pub async fn settled_head(&self) -> Result<Position, StoreError> {
        let sql = format!("SELECT {FIRST_UNSETTLED_POSITION} - 1");
        let head: i64 = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
        Ok(Position(head))
    }
}
