//! Why an append wrote nothing: the caller's token is no longer live, its
//! ids were used before (a retry, or a misuse), the story was not at the
//! expected version, a rule of the fold is broken, or it lost a race and may
//! simply try again.

use uuid::Uuid;

use super::append::Append;
use super::insert::Columns;
use super::{NewEvent, RecordedEvent, Store, StoreError};
use crate::domain::events::StoryEvent;
use crate::domain::fold::{apply, StoryFold};
use crate::domain::{EventId, StoryId};

/// Why an append wrote nothing.
pub(super) enum Refusal {
    /// Every id is stored with the same content: an earlier call's events.
    Duplicate(Vec<RecordedEvent>),
    Failed(StoreError),
    /// Nothing is wrong with the append; another writer got there first.
    Retry,
}

impl Store {
    pub(super) async fn explain_refusal(&self, append: &Append<'_>) -> Result<Refusal, StoreError> {
        if let Some(token) = append.token {
            if !self.is_live(token).await? {
                return Ok(Refusal::Failed(StoreError::TokenNotLive));
            }
        }
        if let Some(refusal) = self.refusal_by_used_ids(append).await? {
            return Ok(refusal);
        }
        let actual = self.current_version(append.story).await?;
        if let Some(expected) = append.expected.filter(|&expected| expected != actual) {
            return Ok(Refusal::Failed(StoreError::VersionConflict {
                expected,
                actual,
            }));
        }
        match self.first_broken_rule(append.story, append.events).await? {
            Some(broken) => Ok(Refusal::Failed(broken)),
            None => Ok(Refusal::Retry),
        }
    }

    /// A retry when every id is stored with the same content; a misuse when
    /// any id is stored with other content, or only some are stored.
    async fn refusal_by_used_ids(
        &self,
        append: &Append<'_>,
    ) -> Result<Option<Refusal>, StoreError> {
        let columns = Columns::of(append.events);
        let used: Vec<(Uuid, bool)> = sqlx::query_as(sql!("read/used_event_ids"))
            .bind(append.story.0)
            .bind(&columns.ids)
            .bind(&columns.types)
            .bind(&columns.payloads)
            .fetch_all(&self.pool)
            .await?;
        if let Some((id, _)) = used.iter().find(|(_, same)| !same) {
            return Ok(Some(Refusal::Failed(StoreError::EventIdReused(EventId(
                *id,
            )))));
        }
        if used.len() == columns.ids.len() {
            let stored = self.read_events_by_id(&columns.ids).await?;
            return Ok(Some(Refusal::Duplicate(stored)));
        }
        // Some of the ids are stored and some are not: not a retry of one
        // earlier call, so it must not pass as one.
        Ok(used
            .first()
            .map(|(id, _)| Refusal::Failed(StoreError::EventIdReused(EventId(*id)))))
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
                event.event_type,
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
}

/// A unique violation on the event id, on (story, version) or on (story,
/// development) (of the snapshot or of its search documents) means the id
/// was used or another writer got there first: the refusal tells which.
/// Any other error is a real failure.
pub(super) fn is_clash_with_concurrent_append(error: &sqlx::Error) -> bool {
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

pub(super) fn is_slug_clash(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e)
        if e.constraint() == Some("events_story_slug_key"))
}

pub(super) fn slug_of(events: &[NewEvent]) -> String {
    events
        .iter()
        .find_map(|e| e.payload.get("slug").and_then(serde_json::Value::as_str))
        .unwrap_or_default()
        .to_owned()
}
