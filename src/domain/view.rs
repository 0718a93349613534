//! The contract's StoryState, derived from a fold under a world-time cut.
//!
//! Every aggregate comes only from the live developments kept by the cut,
//! exactly as the contract's field descriptions say. "Latest" means greatest
//! occurredAt, ties to the later reporting version.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fold::{DevelopmentRecord, StoryFold, VerificationChange};
use super::model::{
    ActorKind, ActorRef, FigureQualifier, Location, Source, StancePosition, StoryStatus,
    TimePrecision, VerificationStatus,
};
use super::{StoryId, Version};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoryState {
    pub story_id: StoryId,
    pub title: String,
    pub summary: Option<String>,
    pub topics: Vec<String>,
    pub status: StoryStatus,
    pub version: Version,
    pub at: Option<DateTime<Utc>>,
    pub known_at: Option<DateTime<Utc>>,
    pub developments: Vec<Development>,
    pub retracted: Vec<RetractedDevelopment>,
    pub actors: Vec<ActorSummary>,
    pub figures: Vec<Figure>,
    pub quotes: Vec<Quote>,
    pub figure_claims: Vec<FigureClaims>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Development {
    pub id: Uuid,
    pub headline: String,
    pub summary: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub precision: TimePrecision,
    pub location: Option<Location>,
    pub actors: Vec<ActorRef>,
    pub quotes: Vec<Quote>,
    pub figures: Vec<Figure>,
    pub stances: Vec<Stance>,
    pub sources: Vec<Source>,
    pub tags: Vec<String>,
    pub reported_in_version: Version,
    pub corrected_in_versions: Vec<Version>,
    pub reported_at: DateTime<Utc>,
    pub verification: VerificationStatus,
    pub verification_history: Vec<VerificationChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetractedDevelopment {
    pub id: Uuid,
    pub headline: String,
    pub reason: String,
    pub retracted_in_version: Version,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorSummary {
    pub name: String,
    pub kind: ActorKind,
    pub mentions: i32,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub stances: Vec<Stance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub speaker: String,
    pub speaker_role: Option<String>,
    pub text: String,
    pub development_id: Uuid,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Figure {
    pub metric: String,
    pub value: f64,
    pub qualifier: FigureQualifier,
    pub unit: Option<String>,
    pub place: Option<String>,
    pub development_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Every claimant's latest figure for one (metric, place), and whether
/// they can all be true (DESIGN §9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FigureClaims {
    pub metric: String,
    pub place: Option<String>,
    pub claims: Vec<Figure>,
    pub disputed: bool,
    pub agreed_low: Option<f64>,
    pub agreed_high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stance {
    pub actor: String,
    pub target: String,
    pub position: StancePosition,
    pub summary: Option<String>,
    pub development_id: Uuid,
    pub occurred_at: DateTime<Utc>,
}

impl Development {
    fn from_record(d: &DevelopmentRecord) -> Development {
        Development {
            id: d.id,
            headline: d.headline.clone(),
            summary: d.summary.clone(),
            occurred_at: d.occurred_at,
            precision: d.precision,
            location: d.location.clone(),
            actors: d.actors.clone(),
            quotes: d
                .quotes
                .iter()
                .map(|q| Quote {
                    speaker: q.speaker.clone(),
                    speaker_role: q.speaker_role.clone(),
                    text: q.text.clone(),
                    development_id: d.id,
                    occurred_at: d.occurred_at,
                })
                .collect(),
            figures: d
                .figures
                .iter()
                .map(|f| Figure {
                    metric: f.metric.clone(),
                    value: f.value,
                    qualifier: f.qualifier,
                    unit: f.unit.clone(),
                    place: f.place.clone(),
                    development_id: d.id,
                    occurred_at: d.occurred_at,
                    claimed_by: f.claimed_by.clone(),
                    low: f.low,
                    high: f.high,
                })
                .collect(),
            stances: d
                .stances
                .iter()
                .map(|s| Stance {
                    actor: s.actor.clone(),
                    target: s.target.clone(),
                    position: s.position,
                    summary: s.summary.clone(),
                    development_id: d.id,
                    occurred_at: d.occurred_at,
                })
                .collect(),
            sources: d.sources.clone(),
            tags: d.tags.clone(),
            reported_in_version: d.reported_in_version,
            corrected_in_versions: d.corrected_in_versions.clone(),
            reported_at: d.reported_at,
            verification: d.verification(),
            verification_history: d.verification_history.clone(),
        }
    }

    /// Whether it feeds the story's aggregates: a development judged FALSE
    /// stays on the timeline but states nothing the story relies on.
    pub fn counts(&self) -> bool {
        self.verification != VerificationStatus::False
    }

    /// Timeline order: occurredAt, ties by the version that reported it.
    fn timeline_key(&self) -> When {
        (self.occurred_at, self.reported_in_version)
    }
}

/// Where a development stands in "latest" order: occurredAt, then the
/// version that reported it.
type When = (DateTime<Utc>, Version);

/// Names compare trimmed and case-insensitively.
pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The contract's StoryState of `fold`, keeping developments that occurred
/// at or before `at` (all of them without a cut). `known_at` is echoed; the
/// caller folded only what was recorded by then.
pub fn story_state(
    fold: &StoryFold,
    at: Option<DateTime<Utc>>,
    known_at: Option<DateTime<Utc>>,
) -> StoryState {
    let kept = |occurred_at: DateTime<Utc>| at.is_none_or(|cut| occurred_at <= cut);
    let mut developments: Vec<Development> = fold
        .developments
        .values()
        .filter(|d| kept(d.occurred_at))
        .map(Development::from_record)
        .collect();
    developments.sort_by_key(Development::timeline_key);

    let mut retracted: Vec<RetractedDevelopment> = fold
        .retracted
        .iter()
        .filter(|r| kept(r.occurred_at))
        .map(|r| RetractedDevelopment {
            id: r.id,
            headline: r.headline.clone(),
            reason: r.reason.clone(),
            retracted_in_version: r.retracted_in_version,
        })
        .collect();
    retracted.sort_by_key(|r| r.retracted_in_version);

    let counted: Vec<&Development> = developments.iter().filter(|d| d.counts()).collect();
    StoryState {
        story_id: fold.story_id,
        title: fold.title.clone(),
        summary: fold.summary.clone(),
        topics: fold.topics.clone(),
        status: fold.status,
        version: fold.version,
        at,
        known_at,
        actors: actor_summaries(&counted),
        figures: latest_figures(&counted),
        figure_claims: figure_claims(&counted),
        quotes: counted
            .iter()
            .flat_map(|d| d.quotes.iter().cloned())
            .collect(),
        developments,
        retracted,
    }
}

/// Whether `candidate` is later than `current` in the "latest" sense.
fn is_later(candidate: When, current: When) -> bool {
    candidate > current
}

struct ActorTally {
    name: String,
    kind: ActorKind,
    kind_from: When,
    mentions: i32,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    /// Latest stance per target, keyed by target name.
    stances: BTreeMap<String, Stance>,
    stance_from: HashMap<String, When>,
}

fn actor_summaries(timeline: &[&Development]) -> Vec<ActorSummary> {
    // "Shown as first written": the form of the earliest report naming it.
    let mut by_report: Vec<&Development> = timeline.to_vec();
    by_report.sort_by_key(|d| d.reported_in_version);

    let mut tallies: HashMap<String, ActorTally> = HashMap::new();
    for d in &by_report {
        let when = d.timeline_key();
        let mut named_here: Vec<String> = Vec::new();
        for actor in &d.actors {
            let key = name_key(&actor.name);
            let tally = tallies.entry(key.clone()).or_insert_with(|| ActorTally {
                name: actor.name.trim().to_owned(),
                kind: actor.kind,
                kind_from: when,
                mentions: 0,
                first_seen_at: d.occurred_at,
                last_seen_at: d.occurred_at,
                stances: BTreeMap::new(),
                stance_from: HashMap::new(),
            });
            if !is_later(tally.kind_from, when) {
                tally.kind = actor.kind;
                tally.kind_from = when;
            }
            if !named_here.contains(&key) {
                tally.mentions += 1;
                named_here.push(key);
            }
            tally.first_seen_at = tally.first_seen_at.min(d.occurred_at);
            tally.last_seen_at = tally.last_seen_at.max(d.occurred_at);
        }
    }
    for d in &by_report {
        let when = d.timeline_key();
        for stance in &d.stances {
            let Some(tally) = tallies.get_mut(&name_key(&stance.actor)) else {
                continue;
            };
            let target = name_key(&stance.target);
            let newer = tally
                .stance_from
                .get(&target)
                .is_none_or(|&from| !is_later(from, when));
            if newer {
                tally.stance_from.insert(target.clone(), when);
                tally.stances.insert(target, stance.clone());
            }
        }
    }
    let mut summaries: Vec<ActorSummary> = tallies
        .into_values()
        .map(|t| ActorSummary {
            name: t.name,
            kind: t.kind,
            mentions: t.mentions,
            first_seen_at: t.first_seen_at,
            last_seen_at: t.last_seen_at,
            stances: t.stances.into_values().collect(),
        })
        .collect();
    summaries.sort_by(|a, b| {
        b.mentions
            .cmp(&a.mentions)
            .then_with(|| name_key(&a.name).cmp(&name_key(&b.name)))
            .then_with(|| a.name.cmp(&b.name))
    });
    summaries
}

/// Per (metric, place): the figure of the latest-occurring live development.
fn latest_figures(timeline: &[&Development]) -> Vec<Figure> {
    let mut latest: BTreeMap<(String, Option<String>), (Figure, When)> = BTreeMap::new();
    for d in timeline {
        let when = d.timeline_key();
        for figure in &d.figures {
            let key = (figure.metric.clone(), figure.place.clone());
            let newer = latest
                .get(&key)
                .is_none_or(|(_, from)| !is_later(*from, when));
            if newer {
                latest.insert(key, (figure.clone(), when));
            }
        }
    }
    latest.into_values().map(|(figure, _)| figure).collect()
}

/// Per (metric, place), in the order of [`latest_figures`]: each claimant's
/// latest figure, the unattributed counting as one claimant.
fn figure_claims(timeline: &[&Development]) -> Vec<FigureClaims> {
    type Claimant = Option<String>;
    // "Shown as first written": the form of the earliest report naming it.
    let mut by_report: Vec<&Development> = timeline.to_vec();
    by_report.sort_by_key(|d| d.reported_in_version);
    let mut written: HashMap<String, String> = HashMap::new();
    for figure in by_report.iter().flat_map(|d| d.figures.iter()) {
        if let Some(name) = &figure.claimed_by {
            written
                .entry(name_key(name))
                .or_insert_with(|| name.trim().to_owned());
        }
    }

    type Key = (String, Option<String>);
    let mut groups: BTreeMap<Key, HashMap<Claimant, (Figure, When)>> = BTreeMap::new();
    for d in timeline {
        let when = d.timeline_key();
        for figure in &d.figures {
            let claimant = figure.claimed_by.as_deref().map(name_key);
            let claims = groups
                .entry((figure.metric.clone(), figure.place.clone()))
                .or_default();
            let newer = claims
                .get(&claimant)
                .is_none_or(|(_, from)| !is_later(*from, when));
            if newer {
                let mut claim = figure.clone();
                claim.claimed_by = claimant.as_ref().and_then(|k| written.get(k).cloned());
                claims.insert(claimant, (claim, when));
            }
        }
    }
    groups
        .into_iter()
        .map(|((metric, place), claims)| {
            let mut claims: Vec<(Figure, When)> = claims.into_values().collect();
            claims.sort_by_key(|(_, when)| std::cmp::Reverse(*when));
            let claims: Vec<Figure> = claims.into_iter().map(|(figure, _)| figure).collect();
            let agreed = common_interval(claims.iter().map(Interval::of));
            FigureClaims {
                metric,
                place,
                disputed: agreed.is_none(),
                agreed_low: agreed.and_then(|i| i.low.map(|b| b.value)),
                agreed_high: agreed.and_then(|i| i.high.map(|b| b.value)),
                claims,
            }
        })
        .collect()
}

/// One end of an interval: its value, and whether the value itself is in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub closed: bool,
}

impl Bound {
    fn closed(value: f64) -> Bound {
        Bound {
            value,
            closed: true,
        }
    }
    fn open(value: f64) -> Bound {
        Bound {
            value,
            closed: false,
        }
    }
}

/// The values a figure admits; a missing end is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: Option<Bound>,
    pub high: Option<Bound>,
}

impl Interval {
    /// The interval a figure states (DESIGN §9): its range when it gives
    /// one, otherwise what its qualifier says of its value.
    pub fn of(figure: &Figure) -> Interval {
        if figure.low.is_some() || figure.high.is_some() {
            return Interval {
                low: figure.low.map(Bound::closed),
                high: figure.high.map(Bound::closed),
            };
        }
        let v = figure.value;
        let (low, high) = match figure.qualifier {
            FigureQualifier::Exact => (Some(Bound::closed(v)), Some(Bound::closed(v))),
            FigureQualifier::AtLeast => (Some(Bound::closed(v)), None),
            FigureQualifier::MoreThan => (Some(Bound::open(v)), None),
            FigureQualifier::UpTo => (None, Some(Bound::closed(v))),
            FigureQualifier::FewerThan => (None, Some(Bound::open(v))),
            FigureQualifier::About => {
                let margin = 0.1 * v.abs();
                (
                    Some(Bound::closed(v - margin)),
                    Some(Bound::closed(v + margin)),
                )
            }
        };
        Interval { low, high }
    }

    fn is_empty(&self) -> bool {
        match (self.low, self.high) {
            (Some(low), Some(high)) => {
                low.value > high.value || (low.value == high.value && !(low.closed && high.closed))
            }
            _ => false,
        }
    }
}

/// The tighter of two lower ends (`upper` false) or upper ends: the greater
/// lower or the smaller upper; at equal values, an open end excludes more.
fn tighter(a: Option<Bound>, b: Option<Bound>, upper: bool) -> Option<Bound> {
    match (a, b) {
        (None, other) | (other, None) => other,
        (Some(a), Some(b)) if a.value == b.value => Some(Bound {
            value: a.value,
            closed: a.closed && b.closed,
        }),
        (Some(a), Some(b)) => Some(if (a.value > b.value) != upper { a } else { b }),
    }
}

/// The values every interval admits, or `None` when no value is admitted
/// by all of them.
pub fn common_interval(intervals: impl IntoIterator<Item = Interval>) -> Option<Interval> {
    let common = intervals.into_iter().fold(
        Interval {
            low: None,
            high: None,
        },
        |acc, i| Interval {
            low: tighter(acc.low, i.low, false),
            high: tighter(acc.high, i.high, true),
        },
    );
    (!common.is_empty()).then_some(common)
}
