//! Appending to a story's stream: the public calls and their retry loop.
//!
//! An append is one SQL statement in its own transaction (`insert.rs` picks
//! it): it reads the stream's head, checks the expected version and the
//! caller's token, and inserts the events with their projection, all at
//! once. Refusals surface either as "nothing inserted" (a check failed) or
//! as a unique violation (the event id is used, or a concurrent writer took
//! the version between our read and our insert); both lead to
//! `refusal.rs`, which tells a retry, a duplicate and a version conflict
//! apart.

use super::batch::Placement;
use super::refusal::{is_clash_with_concurrent_append, is_slug_clash, slug_of, Refusal};
use super::search;
use super::tokens::{Credential, TokenDigest};
use super::{AppendOutcome, EventMetadata, NewEvent, RecordedEvent, Store, StoreError};
use crate::domain::search::SearchDocument;
use crate::domain::{EventId, Position, StoryId, Version};
use chrono::{DateTime, Utc};

/// Positions hold the event's index within its transaction in their low 16
/// bits (see migrations/0001_events.sql).
pub const MAX_EVENTS_PER_TRANSACTION: usize = 1 << 16;

/// How often an append without an expected version re-reads the head after
/// losing a race to a concurrent writer before giving up.
const MAX_ATTEMPTS: usize = 64;

/// One append as the insert paths take it: everything but the attempt.
pub(super) struct Append<'a> {
    pub story: StoryId,
    pub expected: Option<Version>,
    pub events: &'a [NewEvent],
    /// One per event, analysed once however often the append is retried.
    pub documents: &'a [Option<SearchDocument>],
    pub metadata: &'a serde_json::Value,
    pub token: Option<&'a TokenDigest>,
    /// What an export kept of each event, one per event; `None`: now,
    /// and `metadata` for all.
    pub kept: Option<&'a [Kept]>,
}

/// What `import --keep-recorded-at` keeps of an exported event besides its
/// payload: when it was recorded, and who appended it.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub recorded_at: DateTime<Utc>,
    pub metadata: serde_json::Value,
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
        self.append_checked(story, expected, events, metadata, None, None)
            .await
    }

    /// [`Store::append`] keeping when each event was first recorded and
    /// who appended it (restoring an export), one [`Kept`] per event: the
    /// times must be at or after the story's last and never decrease (the
    /// caller checks; `import --keep-recorded-at` does). Positions are
    /// still this commit's.
    pub async fn append_kept(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        kept: &[Kept],
    ) -> Result<AppendOutcome, StoreError> {
        if kept.len() != events.len() {
            return Err(StoreError::Database(sqlx::Error::Protocol(
                "one kept record per event".into(),
            )));
        }
        let metadata = EventMetadata::by("import");
        self.append_checked(story, expected, events, &metadata, None, Some(kept))
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
        self.append_checked(
            story,
            expected,
            events,
            metadata,
            Some(credential.digest),
            None,
        )
        .await
    }

    async fn append_checked(
        &self,
        story: StoryId,
        expected: Option<Version>,
        events: &[NewEvent],
        metadata: &EventMetadata,
        token: Option<TokenDigest>,
        kept: Option<&[Kept]>,
    ) -> Result<AppendOutcome, StoreError> {
        check_batch_size(events)?;
        let metadata = serde_json::to_value(metadata).map_err(sqlx::Error::decode)?;
        let documents: Vec<Option<SearchDocument>> =
            events.iter().map(search::document_of).collect();
        let append = Append {
            story,
            expected,
            events,
            documents: &documents,
            metadata: &metadata,
            token: token.as_ref(),
            kept,
        };
        for attempt in 0..MAX_ATTEMPTS {
            let inserted = self.insert_attempt(&append, attempt == 0).await;
            let slug_clash = matches!(&inserted, Err(e) if is_slug_clash(e));
            match inserted {
                Ok(placements) if placements.len() == events.len() => {
                    self.notifier.wake(story);
                    return Ok(AppendOutcome {
                        events: recorded(&append, placements),
                        deduplicated: false,
                    });
                }
                Ok(_) => {}
                Err(e) if slug_clash || is_clash_with_concurrent_append(&e) => {}
                Err(e) => return Err(e.into()),
            }
            match self.explain_refusal(&append).await? {
                Refusal::Duplicate(stored) => {
                    return Ok(AppendOutcome {
                        events: stored,
                        deduplicated: true,
                    })
                }
                Refusal::Failed(e) => return Err(e),
                // The same StoryOpened retried clashes on its slug too, so
                // a slug clash that is no retry is a slug taken.
                Refusal::Retry if slug_clash => return Err(StoreError::SlugTaken(slug_of(events))),
                Refusal::Retry => continue,
            }
        }
        Err(StoreError::Contention)
    }
}

/// The appended events as stored. Versions were given in the events'
/// order; RETURNING's own order is not promised.
fn recorded(append: &Append<'_>, mut placements: Vec<Placement>) -> Vec<RecordedEvent> {
    placements.sort_unstable_by_key(|placed| placed.version);
    append
        .events
        .iter()
        .zip(placements)
        .enumerate()
        .map(|(n, (event, placed))| RecordedEvent {
            position: Position(placed.position),
            id: event.id,
            story_id: append.story,
            version: Version(placed.version),
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload: event.payload.clone(),
            metadata: match append.kept.and_then(|kept| kept.get(n)) {
                Some(kept) => kept.metadata.clone(),
                None => append.metadata.clone(),
            },
            occurred_at: placed.occurred_at,
            recorded_at: placed.recorded_at,
        })
        .collect()
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
