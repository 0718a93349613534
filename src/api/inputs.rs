//! The contract's enums and input types, and how inputs become domain
//! payloads. Validation is the domain's (`StoryEvent::validated`); here is
//! only the change of shape.

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::events::{self, DevelopmentReported, SCHEMA_VERSION};
use crate::domain::model;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::StoryStatus")]
pub enum StoryStatus {
    Developing,
    Ongoing,
    Concluded,
    Dormant,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::TimePrecision")]
pub enum TimePrecision {
    Instant,
    Day,
    Month,
    Year,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::ActorKind")]
pub enum ActorKind {
    Person,
    Group,
    Organization,
    Country,
    Government,
    Other,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::FigureQualifier")]
pub enum FigureQualifier {
    Exact,
    AtLeast,
    MoreThan,
    About,
    UpTo,
    FewerThan,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::StancePosition")]
pub enum StancePosition {
    Supports,
    Opposes,
    Warns,
    Demands,
    Denies,
    Neutral,
}

/// The desk's verdict on a development. FALSE keeps it on the timeline, flagged, but out of every aggregate.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::VerificationStatus")]
pub enum VerificationStatus {
    Unverified,
    Corroborated,
    Confirmed,
    Disputed,
    False,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::SourceKind")]
pub enum SourceKind {
    Wire,
    Newspaper,
    Broadcast,
    Official,
    Ngo,
    Witness,
    SocialMedia,
    Other,
}

/// PUBLIC stories are readable without a token; INTERNAL ones only with a live token.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::model::StoryVisibility")]
pub enum StoryVisibility {
    Public,
    Internal,
}

#[derive(InputObject)]
pub struct OpenStoryInput {
    /// Client-chosen id for idempotent retries; generated (UUID v7) when absent.
    pub event_id: Option<Uuid>,
    pub slug: String,
    pub title: String,
    pub summary: Option<String>,
    pub topics: Option<Vec<String>>,
    /// PUBLIC when absent.
    pub visibility: Option<StoryVisibility>,
    pub embargo_until: Option<DateTime<Utc>>,
}

#[derive(InputObject)]
pub struct DevelopmentInput {
    /// Generated when absent.
    pub development_id: Option<Uuid>,
    pub headline: String,
    pub summary: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub precision: Option<TimePrecision>,
    pub location: Option<LocationInput>,
    pub actors: Option<Vec<ActorInput>>,
    pub quotes: Option<Vec<QuoteInput>>,
    pub figures: Option<Vec<FigureInput>>,
    pub stances: Option<Vec<StanceInput>>,
    pub sources: Option<Vec<SourceInput>>,
    pub tags: Option<Vec<String>>,
    /// UNVERIFIED when absent.
    pub verification: Option<VerificationStatus>,
}

/// Fields present replace the development's; lists replace whole lists.
#[derive(InputObject)]
pub struct DevelopmentPatch {
    pub headline: Option<String>,
    pub summary: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub precision: Option<TimePrecision>,
    pub location: Option<LocationInput>,
    pub actors: Option<Vec<ActorInput>>,
    pub quotes: Option<Vec<QuoteInput>>,
    pub figures: Option<Vec<FigureInput>>,
    pub stances: Option<Vec<StanceInput>>,
    pub sources: Option<Vec<SourceInput>>,
    pub tags: Option<Vec<String>>,
}

#[derive(InputObject)]
pub struct LocationInput {
    pub name: String,
    pub country: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(InputObject)]
pub struct ActorInput {
    pub name: String,
    pub kind: ActorKind,
    pub role: Option<String>,
}

#[derive(InputObject)]
pub struct QuoteInput {
    pub speaker: String,
    pub speaker_role: Option<String>,
    pub text: String,
}

#[derive(InputObject)]
pub struct FigureInput {
    pub metric: String,
    pub value: f64,
    pub qualifier: Option<FigureQualifier>,
    pub unit: Option<String>,
    pub place: Option<String>,
    pub claimed_by: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

#[derive(InputObject)]
pub struct StanceInput {
    pub actor: String,
    pub target: String,
    pub position: StancePosition,
    pub summary: Option<String>,
}

#[derive(InputObject)]
pub struct SourceInput {
    pub name: String,
    pub url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub kind: Option<SourceKind>,
    /// Cites a stored report (BAD_USER_INPUT when there is none).
    pub report_id: Option<Uuid>,
    /// Passages of that report's text (start < end <= its length in code points); needs reportId.
    pub spans: Option<Vec<SpanInput>>,
}

#[derive(InputObject, Clone, Copy)]
pub struct SpanInput {
    pub start: i32,
    pub end: i32,
}

impl From<SpanInput> for model::Span {
    /// A negative offset becomes a span that validation refuses (start at
    /// or after end), with the message saying so.
    fn from(s: SpanInput) -> Self {
        model::Span {
            start: usize::try_from(s.start).unwrap_or(usize::MAX),
            end: usize::try_from(s.end).unwrap_or(0),
        }
    }
}

fn each<T, U: From<T>>(items: Option<Vec<T>>) -> Option<Vec<U>> {
    items.map(|items| items.into_iter().map(U::from).collect())
}

impl From<LocationInput> for model::Location {
    fn from(l: LocationInput) -> Self {
        model::Location {
            name: l.name,
            country: l.country,
            latitude: l.latitude,
            longitude: l.longitude,
        }
    }
}

impl From<ActorInput> for model::ActorRef {
    fn from(a: ActorInput) -> Self {
        model::ActorRef {
            name: a.name,
            kind: a.kind.into(),
            role: a.role,
        }
    }
}

impl From<QuoteInput> for model::QuoteInput {
    fn from(q: QuoteInput) -> Self {
        model::QuoteInput {
            speaker: q.speaker,
            speaker_role: q.speaker_role,
            text: q.text,
        }
    }
}

impl From<FigureInput> for model::FigureInput {
    fn from(f: FigureInput) -> Self {
        model::FigureInput {
            metric: f.metric,
            value: f.value,
            qualifier: f.qualifier.map(Into::into).unwrap_or_default(),
            unit: f.unit,
            place: f.place,
            claimed_by: f.claimed_by,
            low: f.low,
            high: f.high,
        }
    }
}

impl From<StanceInput> for model::StanceInput {
    fn from(s: StanceInput) -> Self {
        model::StanceInput {
            actor: s.actor,
            target: s.target,
            position: s.position.into(),
            summary: s.summary,
        }
    }
}

impl From<SourceInput> for model::Source {
    fn from(s: SourceInput) -> Self {
        model::Source {
            name: s.name,
            url: s.url,
            published_at: s.published_at,
            kind: s.kind.map(Into::into),
            report_id: s.report_id,
            spans: s
                .spans
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

impl OpenStoryInput {
    pub fn into_event(self) -> events::StoryOpened {
        events::StoryOpened {
            schema_version: SCHEMA_VERSION,
            slug: self.slug,
            title: self.title,
            summary: self.summary,
            topics: self.topics.unwrap_or_default(),
            visibility: self.visibility.map(Into::into),
            embargo_until: self.embargo_until,
        }
    }
}

impl DevelopmentInput {
    /// The reported development, under `fallback_id` when the input names
    /// none.
    pub fn into_event(self, fallback_id: Uuid) -> DevelopmentReported {
        DevelopmentReported {
            summary: self.summary,
            precision: self.precision.map(Into::into).unwrap_or_default(),
            location: self.location.map(Into::into),
            actors: each(self.actors).unwrap_or_default(),
            quotes: each(self.quotes).unwrap_or_default(),
            figures: each(self.figures).unwrap_or_default(),
            stances: each(self.stances).unwrap_or_default(),
            sources: each(self.sources).unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
            verification: self.verification.map(Into::into),
            ..DevelopmentReported::new(
                self.development_id.unwrap_or(fallback_id),
                self.headline,
                self.occurred_at,
            )
        }
    }
}

impl From<DevelopmentPatch> for events::DevelopmentPatch {
    fn from(p: DevelopmentPatch) -> Self {
        events::DevelopmentPatch {
            headline: p.headline,
            summary: p.summary,
            occurred_at: p.occurred_at,
            precision: p.precision.map(Into::into),
            location: p.location.map(Into::into),
            actors: each(p.actors),
            quotes: each(p.quotes),
            figures: each(p.figures),
            stances: each(p.stances),
            sources: each(p.sources),
            tags: p.tags,
        }
    }
}
