//! Reading events: one story's stream by version, and the global feed by
//! position. (Transaction ids below carry the database's position offset,
//! migrations/0009: the same for every process, so the order is the
//! transaction ids'.)
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
use crate::domain::events::EventType;
use crate::domain::replay::RecordedStoryEvent;
use crate::domain::{EventId, Position, StoryId, Version};

/// Which events of the global feed to read. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedFilter {
    pub story: Option<StoryId>,
    pub types: Option<Vec<EventType>>,
    /// Only events of stories readable without a token (DESIGN §10),
    /// decided by the database when read and by the live reader when sent.
    pub public_only: bool,
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
            ..FeedFilter::default()
        }
    }

    /// Whether `event`, of a story that is (or is not) `public` now,
    /// passes the filter: what [`Store::read_feed`]'s conditions select, for
    /// events that arrive without a query (live).
    pub fn admits(&self, event: &RecordedEvent, public: bool) -> bool {
        (public || !self.public_only)
            && self.story.is_none_or(|story| story == event.story_id)
            && self
                .types
                .as_ref()
                .is_none_or(|types| types.contains(&event.event_type))
    }
}

/// Which events of a story's history to read. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryFilter {
    pub types: Option<Vec<EventType>>,
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
    /// As text, parsed here: a payload this code cannot read (written by
    /// hand, or by another release) must not fail the rows beside it.
    payload: String,
    metadata: serde_json::Value,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for RecordedEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        Ok(RecordedEvent {
            position: Position(row.position),
            id: EventId(row.id),
            story_id: StoryId(row.story_id),
            version: Version(row.version),
            event_type: row.event_type.parse().map_err(StoreError::Undecodable)?,
            schema_version: row.schema_version,
            payload: readable_payload(row.id, row.payload),
            metadata: row.metadata,
            occurred_at: row.occurred_at,
            recorded_at: row.recorded_at,
        })
    }
}

/// The stored payload as JSON, or, when this code cannot read it (a number
/// beyond a double, say), its text as a JSON string: the event still takes
/// its place in every read, and decoding it into its type fails for its
/// story alone. No payload of an event's type is a string otherwise.
fn readable_payload(event: Uuid, text: String) -> serde_json::Value {
    match serde_json::from_str(&text) {
        Ok(payload) => payload,
        Err(error) => {
            tracing::warn!(%event, %error, "a stored payload cannot be read");
            serde_json::Value::String(text)
        }
    }
}

/// Stored rows as events; an unknown type (written by hand) is an error.
/// An event row with whether its story is readable without a token now.
#[derive(sqlx::FromRow)]
struct MarkedEventRow {
    #[sqlx(flatten)]
    event: EventRow,
    public: bool,
}

pub(super) fn recorded(rows: Vec<EventRow>) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

/// Event types as the statements bind them.
fn type_names(types: Option<&[EventType]>) -> Option<Vec<&'static str>> {
    types.map(|types| types.iter().map(|t| t.as_str()).collect())
}

impl Store {
    /// A story's events with `from <= version <= to`, in version order.
    pub async fn read_stream(
        &self,
        story: StoryId,
        from: Version,
        to: Option<Version>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query_as::<_, EventRow>(sql!("read/story_events"))
            .bind(story.0)
            .bind(from.0)
            .bind(to.map_or(i32::MAX, |v| v.0))
            .fetch_all(&self.pool)
            .await?;
        recorded(rows)
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
        // Two statements rather than `$n IS NULL OR story_id = $n`, so each
        // keeps its own plan: by position alone, or by the story's index.
        let sql = match filter.story {
            None => sql!("read/feed"),
            Some(_) => sql!("read/story_feed"),
        };
        let mut query = sqlx::query_as::<_, EventRow>(sql)
            .bind(after.0)
            .bind(limit)
            .bind(type_names(filter.types.as_deref()));
        if let Some(story) = filter.story {
            query = query.bind(story.0);
        }
        query = query.bind(filter.public_only);
        recorded(query.fetch_all(&self.pool).await?)
    }

    /// Up to `limit` events of the whole feed after `after`, as
    /// [`Store::read_feed`] reads them, each with whether its story is
    /// readable without a token now (what the live reader fans out).
    pub async fn read_feed_marked(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<(RecordedEvent, bool)>, StoreError> {
        let rows: Vec<MarkedEventRow> = sqlx::query_as(sql!("read/feed_marked"))
            .bind(after.0)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|row| Ok((RecordedEvent::try_from(row.event)?, row.public)))
            .collect()
    }

    /// How many settled events `filter` matches.
    pub async fn count_feed(&self, filter: &FeedFilter) -> Result<i64, StoreError> {
        let count: i64 = sqlx::query_scalar(sql!("read/feed_count"))
            .bind(filter.story.map(|s| s.0))
            .bind(type_names(filter.types.as_deref()))
            .bind(filter.public_only)
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
        let sql = match from_end {
            false => sql!("read/history"),
            true => sql!("read/history_backwards"),
        };
        let mut rows: Vec<EventRow> = sqlx::query_as(sql)
            .bind(story.0)
            .bind(type_names(filter.types.as_deref()))
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
        recorded(rows)
    }

    /// How many of the story's events `filter` keeps.
    pub async fn count_history(
        &self,
        story: StoryId,
        filter: &HistoryFilter,
    ) -> Result<i64, StoreError> {
        let count: i64 = sqlx::query_scalar(sql!("read/history_count"))
            .bind(story.0)
            .bind(type_names(filter.types.as_deref()))
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
        let target: i64 = sqlx::query_scalar(sql!("read/newest_transaction"))
            .fetch_one(&self.pool)
            .await?;
        let deadline = Instant::now() + timeout;
        loop {
            let oldest_running: i64 = sqlx::query_scalar(sql!("read/oldest_running_transaction"))
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
        let head: i64 = sqlx::query_scalar(sql!("read/settled_head"))
            .fetch_one(&self.pool)
            .await?;
        Ok(Position(head))
    }

    /// The story opened with this slug, if any, read from the events.
    pub async fn find_story_by_slug(&self, slug: &str) -> Result<Option<StoryId>, StoreError> {
        let story: Option<Uuid> = sqlx::query_scalar(sql!("read/story_opened_with_slug"))
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

    pub(super) async fn read_events_by_id(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query_as::<_, EventRow>(sql!("read/events_by_id"))
            .bind(ids)
            .fetch_all(&self.pool)
            .await?;
        recorded(rows)
    }

    /// The story's version: the number of events in its stream.
    pub async fn current_version(&self, story: StoryId) -> Result<Version, StoreError> {
        let version: Option<i32> = sqlx::query_scalar(sql!("read/current_version"))
            .bind(story.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(Version(version.unwrap_or(0)))
    }

    /// The database's clock now, the one recorded times come from.
    pub async fn database_time(&self) -> Result<DateTime<Utc>, StoreError> {
        Ok(sqlx::query_scalar(sql!("read/now"))
            .fetch_one(&self.pool)
            .await?)
    }

    /// How many events were recorded before `at`.
    pub async fn events_recorded_before(&self, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(sql!("read/recorded_before"))
            .bind(at)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Story ids after `after` in id order, for walking every story.
    pub async fn story_ids_after(
        &self,
        after: Option<StoryId>,
        limit: i64,
    ) -> Result<Vec<StoryId>, StoreError> {
        let ids: Vec<Uuid> = sqlx::query_scalar(sql!("read/story_ids_after"))
            .bind(after.map_or(Uuid::nil(), |s| s.0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(StoryId).collect())
    }
}
