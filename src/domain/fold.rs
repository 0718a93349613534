//! The fold: `apply(state, event)` is the only way a story's state changes.
//!
//! The folded state keeps developments as reported and corrected; every
//! aggregate the contract shows (timeline order, actors, figures, quotes) is
//! derived from it in [`super::view`], so a cut on world time needs no
//! second fold.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{DevelopmentPatch, DevelopmentReported, StoryEvent};
use super::model::{
    ActorRef, FigureInput, Location, QuoteInput, Source, StanceInput, StoryStatus, TimePrecision,
};
use super::{StoryId, Version};

/// The version of the fold's rules. Bump it whenever `apply` or the state
/// it builds changes, so that replay checkpoints made by older code are ignored.
pub const FOLD_VERSION: i32 = 1;

/// A development as it stands after its corrections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevelopmentRecord {
    pub id: Uuid,
    pub headline: String,
    pub summary: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub precision: TimePrecision,
    pub location: Option<Location>,
    pub actors: Vec<ActorRef>,
    pub quotes: Vec<QuoteInput>,
    pub figures: Vec<FigureInput>,
    pub stances: Vec<StanceInput>,
    pub sources: Vec<Source>,
    pub tags: Vec<String>,
    pub reported_in_version: Version,
    pub corrected_in_versions: Vec<Version>,
}

/// A development taken back; it leaves every aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetractedRecord {
    pub id: Uuid,
    pub headline: String,
    pub reason: String,
    pub retracted_in_version: Version,
    /// Kept so that a world-time cut can leave it out like any development.
    pub occurred_at: DateTime<Utc>,
}

/// Everything the events of one story have established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryFold {
    pub story_id: StoryId,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
    pub topics: Vec<String>,
    pub status: StoryStatus,
    pub version: Version,
    pub opened_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub developments: HashMap<Uuid, DevelopmentRecord>,
    pub retracted: Vec<RetractedRecord>,
}

/// An event that cannot follow the ones before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("the first event of a story must be StoryOpened")]
    NotOpened,
    #[error("StoryOpened may only be the first event of a story")]
    AlreadyOpened,
    #[error("event version {found} does not follow version {current}")]
    VersionGap { current: Version, found: Version },
    #[error("development {0} already exists in this story")]
    DuplicateDevelopment(Uuid),
    /// The nil id is where a story keeps its own search document.
    #[error("the nil UUID cannot identify a development")]
    NilDevelopmentId,
    #[error("development {0} does not exist in this story")]
    UnknownDevelopment(Uuid),
    #[error("development {0} was retracted")]
    DevelopmentRetracted(Uuid),
}

impl StoryFold {
    /// The state before any event.
    pub fn empty(story_id: StoryId) -> StoryFold {
        StoryFold {
            story_id,
            slug: String::new(),
            title: String::new(),
            summary: None,
            topics: Vec::new(),
            status: StoryStatus::default(),
            version: Version::EMPTY,
            opened_at: None,
            updated_at: None,
            developments: HashMap::new(),
            retracted: Vec::new(),
        }
    }

    pub fn is_opened(&self) -> bool {
        self.version > Version::EMPTY
    }

    /// Whether `event`, as the next one, would be accepted: the checks of
    /// [`apply`] without applying. Commands call it before appending.
    pub fn check(&self, event: &StoryEvent) -> Result<(), FoldError> {
        match event {
            StoryEvent::StoryOpened(_) if self.is_opened() => Err(FoldError::AlreadyOpened),
            StoryEvent::StoryOpened(_) => Ok(()),
            _ if !self.is_opened() => Err(FoldError::NotOpened),
            StoryEvent::DevelopmentReported(e) => self.check_new_development(e.development_id),
            StoryEvent::DevelopmentCorrected(e) => self.check_live(e.development_id),
            StoryEvent::DevelopmentRetracted(e) => self.check_live(e.development_id),
            StoryEvent::StoryStatusChanged(_) => Ok(()),
        }
    }

    /// The contract's `Event.occurredAt` of a development event just
    /// applied: its target's occurredAt after the event. `None` for
    /// story-level events, which occur when they are recorded.
    pub fn development_time(&self, event: &StoryEvent) -> Option<DateTime<Utc>> {
        let id = event.development_id()?;
        self.developments
            .get(&id)
            .map(|d| d.occurred_at)
            .or_else(|| {
                self.retracted
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| r.occurred_at)
            })
    }

    fn check_new_development(&self, id: Uuid) -> Result<(), FoldError> {
        if id.is_nil() {
            return Err(FoldError::NilDevelopmentId);
        }
        let known =
            self.developments.contains_key(&id) || self.retracted.iter().any(|r| r.id == id);
        if known {
            Err(FoldError::DuplicateDevelopment(id))
        } else {
            Ok(())
        }
    }

    fn check_live(&self, id: Uuid) -> Result<(), FoldError> {
        if self.developments.contains_key(&id) {
            Ok(())
        } else if self.retracted.iter().any(|r| r.id == id) {
            Err(FoldError::DevelopmentRetracted(id))
        } else {
            Err(FoldError::UnknownDevelopment(id))
        }
    }
}

/// Folds one event, recorded as `version` at `recorded_at`, into `state`.
pub fn apply(
    state: &mut StoryFold,
    version: Version,
    recorded_at: DateTime<Utc>,
    event: &StoryEvent,
) -> Result<(), FoldError> {
    if version != state.version.next() {
        return Err(FoldError::VersionGap {
            current: state.version,
            found: version,
        });
    }
    state.check(event)?;
    match event {
        StoryEvent::StoryOpened(e) => {
            state.slug = e.slug.clone();
            state.title = e.title.clone();
            state.summary = e.summary.clone();
            state.topics = e.topics.clone();
            state.opened_at = Some(recorded_at);
        }
        StoryEvent::DevelopmentReported(e) => {
            state
                .developments
                .insert(e.development_id, reported(e, version));
        }
        StoryEvent::DevelopmentCorrected(e) => {
            if let Some(development) = state.developments.get_mut(&e.development_id) {
                correct(development, &e.changes, version);
            }
        }
        StoryEvent::DevelopmentRetracted(e) => {
            if let Some(development) = state.developments.remove(&e.development_id) {
                state.retracted.push(RetractedRecord {
                    id: development.id,
                    headline: development.headline,
                    reason: e.reason.clone(),
                    retracted_in_version: version,
                    occurred_at: development.occurred_at,
                });
            }
        }
        StoryEvent::StoryStatusChanged(e) => state.status = e.status,
    }
    state.version = version;
    state.updated_at = Some(recorded_at);
    Ok(())
}

fn reported(e: &DevelopmentReported, version: Version) -> DevelopmentRecord {
    DevelopmentRecord {
        id: e.development_id,
        headline: e.headline.clone(),
        summary: e.summary.clone(),
        occurred_at: e.occurred_at,
        precision: e.precision,
        location: e.location.clone(),
        actors: e.actors.clone(),
        quotes: e.quotes.clone(),
        figures: e.figures.clone(),
        stances: e.stances.clone(),
        sources: e.sources.clone(),
        tags: e.tags.clone(),
        reported_in_version: version,
        corrected_in_versions: Vec::new(),
    }
}

/// Present fields replace; lists replace whole lists.
fn correct(d: &mut DevelopmentRecord, patch: &DevelopmentPatch, version: Version) {
    fn replace<T: Clone>(field: &mut T, new: &Option<T>) {
        if let Some(value) = new {
            *field = value.clone();
        }
    }
    replace(&mut d.headline, &patch.headline);
    if patch.summary.is_some() {
        d.summary = patch.summary.clone();
    }
    replace(&mut d.occurred_at, &patch.occurred_at);
    replace(&mut d.precision, &patch.precision);
    if patch.location.is_some() {
        d.location = patch.location.clone();
    }
    replace(&mut d.actors, &patch.actors);
    replace(&mut d.quotes, &patch.quotes);
    replace(&mut d.figures, &patch.figures);
    replace(&mut d.stances, &patch.stances);
    replace(&mut d.sources, &patch.sources);
    replace(&mut d.tags, &patch.tags);
    d.corrected_in_versions.push(version);
}
