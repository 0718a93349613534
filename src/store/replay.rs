//! Replaying a story as of a time: `state_at` from the store, using the
//! story snapshot when no transaction-time cut applies, and replay
//! checkpoints (folds stored every N versions, and the folds this process
//! replayed lately) when one does.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lru::LruCache;

use super::{Store, StoreError};
use crate::domain::events::{DecodeError, StoryEvent};
use crate::domain::fold::{StoryFold, FOLD_VERSION};
use crate::domain::replay::fold_known_from;
use crate::domain::replay::RecordedStoryEvent;
use crate::domain::view::{story_state, StoryState};
use crate::domain::StoryId;
use crate::domain::Version;
use crate::offload::{when_heavy, HEAVY_DEVELOPMENTS};

impl Store {
    /// The story as it was at `at` (world time) as known at `known_at`
    /// (transaction time); `None` when the story did not exist by then.
    pub async fn state_at(
        &self,
        story: StoryId,
        at: Option<DateTime<Utc>>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<StoryState>, StoreError> {
        let Some(fold) = self
            .shared_fold_known_at(story, known_at)
            .await?
            .filter(|fold| fold.is_opened())
        else {
            return Ok(None);
        };
        let heavy = fold.developments.len() > HEAVY_DEVELOPMENTS;
        Ok(Some(
            when_heavy(heavy, move || story_state(&fold, at, known_at)).await?,
        ))
    }

    /// The fold of the events recorded at or before `known_at`, shared.
    /// Replays start from the newest fold this process replayed before the
    /// cut (kept in memory, see [`RecentFolds`]) or from the newest stored
    /// checkpoint, and read only the events after it.
    async fn shared_fold_known_at(
        &self,
        story: StoryId,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Arc<StoryFold>>, StoreError> {
        let updated_at: Option<DateTime<Utc>> = sqlx::query_scalar(sql!("stories/updated_at"))
            .bind(story.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(updated_at) = updated_at else {
            return Ok(None);
        };
        // Nothing recorded after the cut: the projection is the answer.
        let Some(cut) = known_at.filter(|cut| updated_at > *cut) else {
            return Ok(self.load_snapshot(story).await?.map(Arc::new));
        };
        let start = match self.recent_folds.newest_before(story, cut) {
            Some(fold) => fold,
            None => Arc::new(
                self.checkpoint_before(story, known_at)
                    .await?
                    .unwrap_or_else(|| StoryFold::empty(story)),
            ),
        };
        let from = start.version;
        // Only what the fold needs, the payload as text: parsing it straight
        // into the event types halves the cost of a long replay.
        let rows: Vec<ReplayRow> = sqlx::query_as(sql!("replay/events_after"))
            .bind(story.0)
            .bind(from.0)
            .bind(cut)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(Some(start).filter(|f| f.is_opened()));
        }
        let every = self.checkpoint_every;
        let heavy = rows.len() > HEAVY_DEVELOPMENTS;
        // Fold up to the last multiple of N, keep that, then the rest.
        let (fold, rest) = when_heavy(heavy, move || {
            let events = rows
                .into_iter()
                .map(ReplayRow::decode)
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::Undecodable)?;
            let keep_at = events.last().map(|e| e.version.0 - e.version.0 % every);
            let (before, after): (Vec<_>, Vec<_>) = events
                .into_iter()
                .partition(|e| keep_at.is_some_and(|k| e.version.0 <= k));
            let fold = fold_known_from(Arc::unwrap_or_clone(start), &before, known_at)?;
            Ok::<_, StoreError>((fold, after))
        })
        .await??;
        if fold.version.0 > from.0 && fold.version.0 % every == 0 {
            self.keep_checkpoint(&fold).await?;
        }
        let fold = when_heavy(heavy, move || fold_known_from(fold, &rest, known_at)).await??;
        let fold = Arc::new(fold);
        self.recent_folds.keep(fold.clone());
        Ok(Some(fold).filter(|f| f.is_opened()))
    }

    /// The newest stored checkpoint whose last event was recorded by
    /// `known_at`.
    async fn checkpoint_before(
        &self,
        story: StoryId,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Option<StoryFold>, StoreError> {
        let state: Option<String> = sqlx::query_scalar(sql!("replay/newest_checkpoint"))
            .bind(story.0)
            .bind(FOLD_VERSION)
            .bind(known_at)
            .fetch_optional(&self.pool)
            .await?;
        // An unreadable checkpoint is only a lost shortcut: fold from the start.
        Ok(state.and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn keep_checkpoint(&self, fold: &StoryFold) -> Result<(), StoreError> {
        let Some(recorded_at) = fold.updated_at else {
            return Ok(());
        };
        let state = serde_json::to_value(fold).map_err(sqlx::Error::decode)?;
        sqlx::query(sql!("replay/keep_checkpoint"))
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
                self.event_type.parse()?,
                self.schema_version,
                &self.payload,
            )?,
        })
    }
}

/// Folds this process replayed lately, the newest first to go unused last.
/// Events never change, so a fold at a version stays right forever; a
/// replay to a later cut of the same story starts from it instead of from a
/// stored checkpoint or the first event. Bounded by count: a fold holds a whole
/// story.
#[derive(Clone)]
pub(super) struct RecentFolds {
    folds: Arc<Mutex<FoldCache>>,
}

type FoldCache = LruCache<(StoryId, Version), Arc<StoryFold>>;

/// How many replayed folds a process keeps.
const RECENT_FOLDS: usize = 16;

impl RecentFolds {
    pub(super) fn new() -> RecentFolds {
        let capacity = NonZeroUsize::new(RECENT_FOLDS).unwrap_or(NonZeroUsize::MIN);
        RecentFolds {
            folds: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FoldCache> {
        self.folds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The newest kept fold of `story` whose last event was recorded by
    /// `cut`, with the FOLD_VERSION rules of this code.
    fn newest_before(&self, story: StoryId, cut: DateTime<Utc>) -> Option<Arc<StoryFold>> {
        let mut folds = self.lock();
        let key = folds
            .iter()
            .filter(|((id, _), fold)| *id == story && fold.updated_at.is_some_and(|at| at <= cut))
            .max_by_key(|((_, version), _)| *version)
            .map(|(key, _)| *key)?;
        folds.get(&key).cloned()
    }

    fn keep(&self, fold: Arc<StoryFold>) {
        if fold.is_opened() {
            self.lock().put((fold.story_id, fold.version), fold);
        }
    }
}
