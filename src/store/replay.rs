//! Replaying a story as of a time: `state_at` from the store, using the
//! snapshot projection when no transaction-time cut applies and stored
//! replay snapshots (every N versions) when one does.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::domain::events::{DecodeError, StoryEvent};
use crate::domain::replay::RecordedStoryEvent;
use crate::domain::Version;
use crate::domain::fold::{StoryFold, FOLD_VERSION};
use crate::domain::replay::fold_known_from;
use crate::domain::view::{story_state, StoryState};
use crate::domain::StoryId;

impl Store {
    /// The story as it was at `at` (world time) as known at `known_at`
    /// (transaction time); `None` when the story did not exist by then.
    pub async fn state_at(
        &self,
        story: StoryId,
        at: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<StoryState>, StoreError> {
        let fold = self.fold_known_at(story, known_at).await?;
        Ok(fold
            .filter(StoryFold::is_opened)
            .map(|fold| story_state(&fold, at, known_at)))
    }

    /// The fold of the events recorded at or before `known_at`.
    pub async fn fold_known_at(
        &self,
        story: StoryId,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<StoryFold>, StoreError> {
        let updated_at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT updated_at FROM stories WHERE story_id = $1")
                .bind(story.0)
                .fetch_optional(&self.pool)
                .await?;
        let Some(updated_at) = updated_at else {
            return Ok(None);
        };
        // Nothing recorded after the cut: the projection is the answer.
        if known_at.is_none_or(|cut| updated_at <= cut) {
            return self.load_snapshot(story).await;
        }
        let start = self
            .stored_fold_before(story, known_at)
            .await?
            .unwrap_or_else(|| StoryFold::empty(story));
        let from = start.version;
        // Only what the fold needs, the payload as text: parsing it straight
        // into the event types halves the cost of a long replay.
        let rows: Vec<ReplayRow> = sqlx::query_as(
            "SELECT version, recorded_at, type AS event_type, schema_version,
                    payload::text AS payload
             FROM events
             WHERE story_id = $1 AND version > $2 AND recorded_at <= $3 ORDER BY version",
        )
        .bind(story.0)
        .bind(from.0)
        .bind(known_at)
        .fetch_all(&self.pool)
        .await?;
        let events = rows
            .into_iter()
            .map(ReplayRow::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::Undecodable)?;
        let every = self.snapshot_every;
        let mut fold = start;
        // Fold up to the last multiple of N, keep that, then the rest.
        let keep_at = events.last().map(|e| e.version.0 - e.version.0 % every);
        let (before, after): (Vec<_>, Vec<_>) = events
            .iter()
            .partition(|e| keep_at.is_some_and(|k| e.version.0 <= k));
        fold = fold_known_from(fold, before, known_at)?;
        if fold.version.0 > from.0 && fold.version.0 % every == 0 {
            self.store_fold(&fold).await?;
        }
        fold = fold_known_from(fold, after, known_at)?;
        Ok(Some(fold).filter(StoryFold::is_opened))
    }

    /// The newest stored fold whose last event was recorded by `known_at`.
    async fn stored_fold_before(
        &self,
        story: StoryId,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<StoryFold>, StoreError> {
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state::text FROM replay_snapshots
             WHERE story_id = $1 AND fold_version = $2 AND recorded_at <= $3
             ORDER BY version DESC LIMIT 1",
        )
        .bind(story.0)
        .bind(FOLD_VERSION)
        .bind(known_at)
        .fetch_optional(&self.pool)
        .await?;
        // An unreadable stored fold is only a lost shortcut: fold from the start.
        Ok(state.and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn store_fold(&self, fold: &StoryFold) -> Result<(), StoreError> {
        let Some(recorded_at) = fold.updated_at else {
            return Ok(());
        };
        let state = serde_json::to_value(fold).map_err(sqlx::Error::decode)?;
        sqlx::query(
            "INSERT INTO replay_snapshots (story_id, version, fold_version, recorded_at, state)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(fold.story_id.0)
        .bind(fold.version.0)
        .bind(FOLD_VERSION)
        .bind(recorded_at)
        .bind(state)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// An event as a replay reads it.
#[derive(sqlx::FromRow)]
struct ReplayRow {
    version: i32,
    recorded_at: DateTime<Utc>,
    event_type: String,
    schema_version: i32,
    payload: String,
}

impl ReplayRow {
    fn decode(self) -> Result<RecordedStoryEvent, DecodeError> {
        Ok(RecordedStoryEvent {
            version: Version(self.version),
            recorded_at: self.recorded_at,
            event: StoryEvent::from_payload_text(
                &self.event_type,
                self.schema_version,
                &self.payload,
            )?,
        })
    }
}
