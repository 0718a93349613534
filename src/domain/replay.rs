//! Replaying a story on its two time axes.
//!
//! - valid time (`at`): when things happened; cuts developments by their
//!   (corrected) occurredAt.
//! - transaction time (`known_at`): when we learned them; cuts events by
//!   their recordedAt, so a correction counts only once it was recorded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::StoryEvent;
use super::fold::{apply, FoldError, StoryFold};
use super::view::{story_state, Development, Figure, Stance, StoryState};
use super::{StoryId, Version};

/// An event with what the store decided about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedStoryEvent {
    pub version: Version,
    pub recorded_at: DateTime<Utc>,
    pub event: StoryEvent,
}

/// Folds events in version order, stopping after the last one recorded at
/// or before `known_at` (recordedAt never decreases within a story).
pub fn fold_known<'a>(
    story_id: StoryId,
    events: impl IntoIterator<Item = &'a RecordedStoryEvent>,
    known_at: Option<DateTime<Utc>>,
) -> Result<StoryFold, FoldError> {
    fold_known_from(StoryFold::empty(story_id), events, known_at)
}

/// Like [`fold_known`], continuing from an earlier fold (a stored replay
/// snapshot); events at or below its version are skipped.
pub fn fold_known_from<'a>(
    mut state: StoryFold,
    events: impl IntoIterator<Item = &'a RecordedStoryEvent>,
    known_at: Option<DateTime<Utc>>,
) -> Result<StoryFold, FoldError> {
    for e in events {
        if known_at.is_some_and(|cut| e.recorded_at > cut) {
            break;
        }
        if e.version <= state.version {
            continue;
        }
        apply(&mut state, e.version, e.recorded_at, &e.event)?;
    }
    Ok(state)
}

/// The story as it was at `at` (world time), as known at `known_at`
/// (transaction time). Either may be omitted: no cut on that axis.
pub fn state_at(
    story_id: StoryId,
    events: &[RecordedStoryEvent],
    at: Option<DateTime<Utc>>,
    known_at: Option<DateTime<Utc>>,
) -> Result<StoryState, FoldError> {
    let fold = fold_known(story_id, events, known_at)?;
    Ok(story_state(&fold, at, known_at))
}

/// What changed in the story's world-time state between two instants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryChanges {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Developments whose occurredAt lies in (from, to].
    pub added: Vec<Development>,
    /// Figures of `to` whose value or qualifier differs from `from` (or new).
    pub figures_changed: Vec<Figure>,
    /// Stances present at `to` but not at `from`, identified by (actor,
    /// target, position).
    pub stances_changed: Vec<Stance>,
}

/// Compares `stateAt(at: from)` with `stateAt(at: to)` of one fold.
pub fn changes(fold: &StoryFold, from: DateTime<Utc>, to: DateTime<Utc>) -> StoryChanges {
    let before = story_state(fold, Some(from), None);
    let after = story_state(fold, Some(to), None);
    let added = after
        .developments
        .iter()
        .filter(|d| d.occurred_at > from)
        .cloned()
        .collect();
    let figures_changed = after
        .figures
        .iter()
        .filter(|f| {
            !before.figures.iter().any(|old| {
                old.metric == f.metric
                    && old.place == f.place
                    && old.value == f.value
                    && old.qualifier == f.qualifier
            })
        })
        .cloned()
        .collect();
    let identity = |s: &Stance| (s.actor.to_lowercase(), s.target.to_lowercase(), s.position);
    let stances_before: Vec<_> = all_stances(&before).map(identity).collect();
    let mut stances_changed: Vec<Stance> = Vec::new();
    for stance in all_stances(&after) {
        let id = identity(stance);
        if !stances_before.contains(&id) && !stances_changed.iter().any(|s| identity(s) == id) {
            stances_changed.push(stance.clone());
        }
    }
    StoryChanges {
        from,
        to,
        added,
        figures_changed,
        stances_changed,
    }
}

fn all_stances(state: &StoryState) -> impl Iterator<Item = &Stance> {
    state
        .developments
        .iter()
        .filter(|d| d.counts())
        .flat_map(|d| d.stances.iter())
}
