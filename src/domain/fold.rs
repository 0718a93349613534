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
    ActorRef, FigureInput, Location, QuoteInput, Source, StanceInput, StoryStatus, StoryVisibility,
    TimePrecision, VerificationStatus,
};
use super::{StoryId, Version};

/// The version of the fold's rules. Bump it whenever `apply` or the state
/// it builds changes, so that replay checkpoints made by older code are ignored.
pub const FOLD_VERSION: i32 = 2;

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
    /// When the report was recorded.
    pub reported_at: DateTime<Utc>,
    /// Every verdict, oldest first; the one given with the report first.
    pub verification_history: Vec<VerificationChange>,
}

impl DevelopmentRecord {
    /// The latest verdict; UNVERIFIED when none was given.
    pub fn verification(&self) -> VerificationStatus {
        self.verification_history
            .last()
            .map_or(VerificationStatus::Unverified, |v| v.status)
    }
}

/// One verdict on a development, with the event that gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationChange {
    pub status: VerificationStatus,
    pub note: Option<String>,
    pub version: Version,
    pub recorded_at: DateTime<Utc>,
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
    /// As set; [`StoryFold::visibility_at`] says what is in force.
    pub visibility: StoryVisibility,
    pub embargo_until: Option<DateTime<Utc>>,
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
            visibility: StoryVisibility::default(),
            embargo_until: None,
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

    /// The visibility in force at `now`: INTERNAL while an embargo runs,
    /// whatever was set.
    pub fn visibility_at(&self, now: DateTime<Utc>) -> StoryVisibility {
        effective_visibility(self.visibility, self.embargo_until, now)
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
            StoryEvent::DevelopmentVerificationChanged(e) => self.check_live(e.development_id),
            StoryEvent::StoryStatusChanged(_) | StoryEvent::StoryVisibilityChanged(_) => Ok(()),
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

/// A story's visibility in force at `now` (DESIGN §10): INTERNAL when set
/// so or while `embargo_until` lies ahead, PUBLIC otherwise.
pub fn effective_visibility(
    visibility: StoryVisibility,
    embargo_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoryVisibility {
    if embargo_until.is_some_and(|until| until > now) {
        StoryVisibility::Internal
    } else {
        visibility
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
            state.visibility = e.visibility.unwrap_or_default();
            state.embargo_until = e.embargo_until;
            state.opened_at = Some(recorded_at);
        }
        StoryEvent::DevelopmentReported(e) => {
            state
                .developments
                .insert(e.development_id, reported(e, version, recorded_at));
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
        StoryEvent::DevelopmentVerificationChanged(e) => {
            if let Some(development) = state.developments.get_mut(&e.development_id) {
                development.verification_history.push(VerificationChange {
                    status: e.status,
                    note: e.note.clone(),
                    version,
                    recorded_at,
                });
            }
        }
        StoryEvent::StoryVisibilityChanged(e) => {
            state.visibility = e.visibility;
            state.embargo_until = e.embargo_until;
        }
    }
    state.version = version;
    state.updated_at = Some(recorded_at);
    Ok(())
}

fn reported(
    e: &DevelopmentReported,
    version: Version,
    recorded_at: DateTime<Utc>,
) -> DevelopmentRecord {
    let initial_verdict = e.verification.map(|status| VerificationChange {
        status,
        note: None,
        version,
        recorded_at,
    });
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
        reported_at: recorded_at,
        verification_history: initial_verdict.into_iter().collect(),
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
