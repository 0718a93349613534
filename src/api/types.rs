//! The contract's output types over the domain's view types. Each wrapper
//! only names fields; the values come from the fold and its view.

use std::sync::Arc;

use async_graphql::{Context, Json, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::budget::{charge_json, charged, charged_opt, listed};
use super::errors::ApiResult;
use super::inputs::{
    ActorKind, FigureQualifier, SourceKind, StancePosition, StoryStatus, TimePrecision,
    VerificationStatus,
};
use crate::domain::{fold, model, replay, view};
use crate::store::RecordedEvent;

pub struct StoryState(pub view::StoryState);

#[Object]
impl StoryState {
    async fn story_id(&self) -> Uuid {
        self.0.story_id.0
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn summary(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.0.summary.as_deref())
    }
    async fn topics(&self) -> &[String] {
        &self.0.topics
    }
    async fn status(&self) -> StoryStatus {
        self.0.status.into()
    }
    /// Version of the last event folded into this state.
    async fn version(&self) -> i32 {
        self.0.version.0
    }
    async fn at(&self) -> Option<DateTime<Utc>> {
        self.0.at
    }
    async fn known_at(&self) -> Option<DateTime<Utc>> {
        self.0.known_at
    }
    /// Timeline: live (not retracted) developments, ascending occurredAt, ties by the version that reported them. verification: only those with one of these statuses.
    async fn developments(
        &self,
        ctx: &Context<'_>,
        verification: Option<Vec<VerificationStatus>>,
    ) -> ApiResult<Vec<Development<'_>>> {
        let wanted: Option<Vec<model::VerificationStatus>> =
            verification.map(|statuses| statuses.into_iter().map(Into::into).collect());
        let developments = self
            .0
            .developments
            .iter()
            .filter(|d| wanted.as_ref().is_none_or(|w| w.contains(&d.verification)))
            .map(Development)
            .collect();
        listed(ctx, developments)
    }
    async fn retracted(&self, ctx: &Context<'_>) -> ApiResult<Vec<RetractedDevelopment<'_>>> {
        listed(
            ctx,
            self.0.retracted.iter().map(RetractedDevelopment).collect(),
        )
    }
    /// Every actor named by a live development, most mentioned first, ties by name.
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<ActorSummary<'_>>> {
        listed(ctx, self.0.actors.iter().map(ActorSummary).collect())
    }
    /// Latest figure per (metric, place): the one from the latest-occurring live development; ties go to the later version.
    async fn figures(&self, ctx: &Context<'_>) -> ApiResult<Vec<Figure<'_>>> {
        listed(ctx, self.0.figures.iter().map(Figure).collect())
    }
    /// Every quote of every live development, in timeline order.
    async fn quotes(&self, ctx: &Context<'_>) -> ApiResult<Vec<Quote<'_>>> {
        listed(ctx, self.0.quotes.iter().map(Quote).collect())
    }
    /// Per (metric, place) with at least one figure, in the order of figures: each claimant's latest figure, and whether they can all be true.
    async fn figure_claims(&self, ctx: &Context<'_>) -> ApiResult<Vec<FigureClaims<'_>>> {
        listed(ctx, self.0.figure_claims.iter().map(FigureClaims).collect())
    }
}

pub struct FigureClaims<'a>(pub &'a view::FigureClaims);

#[Object]
impl FigureClaims<'_> {
    async fn metric(&self) -> &str {
        &self.0.metric
    }
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Each claimant's latest figure for this (metric, place); claimedBy null counts as one claimant. Greatest occurredAt first, ties to the later version.
    async fn claims(&self, ctx: &Context<'_>) -> ApiResult<Vec<Figure<'_>>> {
        listed(ctx, self.0.claims.iter().map(Figure).collect())
    }
    /// True when the intervals the claims state have no value in common (DESIGN.md §9).
    async fn disputed(&self) -> bool {
        self.0.disputed
    }
    /// Bounds of the values every claim admits; null when disputed or unbounded on that side.
    async fn agreed_low(&self) -> Option<f64> {
        self.0.agreed_low
    }
    async fn agreed_high(&self) -> Option<f64> {
        self.0.agreed_high
    }
}

pub struct VerificationChange<'a>(pub &'a fold::VerificationChange);

#[Object]
impl VerificationChange<'_> {
    async fn status(&self) -> VerificationStatus {
        self.0.status.into()
    }
    async fn note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.0.note.as_deref())
    }
    async fn version(&self) -> i32 {
        self.0.version.0
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

pub struct Development<'a>(pub &'a view::Development);

#[Object]
impl Development<'_> {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn headline(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.0.headline)
    }
    async fn summary(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.0.summary.as_deref())
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn precision(&self) -> TimePrecision {
        self.0.precision.into()
    }
    async fn location(&self) -> Option<Location<'_>> {
        self.0.location.as_ref().map(Location)
    }
    async fn actors(&self, ctx: &Context<'_>) -> ApiResult<Vec<ActorRef<'_>>> {
        listed(ctx, self.0.actors.iter().map(ActorRef).collect())
    }
    async fn quotes(&self, ctx: &Context<'_>) -> ApiResult<Vec<Quote<'_>>> {
        listed(ctx, self.0.quotes.iter().map(Quote).collect())
    }
    async fn figures(&self, ctx: &Context<'_>) -> ApiResult<Vec<Figure<'_>>> {
        listed(ctx, self.0.figures.iter().map(Figure).collect())
    }
    async fn stances(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stance<'_>>> {
        listed(ctx, self.0.stances.iter().map(Stance).collect())
    }
    async fn sources(&self, ctx: &Context<'_>) -> ApiResult<Vec<Source<'_>>> {
        listed(ctx, self.0.sources.iter().map(Source).collect())
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// Version of the event that reported it.
    async fn reported_in_version(&self) -> i32 {
        self.0.reported_in_version.0
    }
    /// Versions of the corrections applied to it, ascending.
    async fn corrected_in_versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<i32>> {
        listed(
            ctx,
            self.0.corrected_in_versions.iter().map(|v| v.0).collect(),
        )
    }
    /// When the report was recorded (transaction time of reportedInVersion).
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.reported_at
    }
    async fn verification(&self) -> VerificationStatus {
        self.0.verification.into()
    }
    /// Every verification verdict given to it, oldest first (an initial status given with the report comes first).
    async fn verification_history(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<VerificationChange<'_>>> {
        listed(
            ctx,
            self.0
                .verification_history
                .iter()
                .map(VerificationChange)
                .collect(),
        )
    }
}

pub struct RetractedDevelopment<'a>(pub &'a view::RetractedDevelopment);

#[Object]
impl RetractedDevelopment<'_> {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn headline(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.0.headline)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn retracted_in_version(&self) -> i32 {
        self.0.retracted_in_version.0
    }
}

pub struct Location<'a>(pub &'a model::Location);

#[Object]
impl Location<'_> {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
}

pub struct ActorRef<'a>(pub &'a model::ActorRef);

#[Object]
impl ActorRef<'_> {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> ActorKind {
        self.0.kind.into()
    }
    async fn role(&self) -> Option<&str> {
        self.0.role.as_deref()
    }
}

pub struct ActorSummary<'a>(pub &'a view::ActorSummary);

#[Object]
impl ActorSummary<'_> {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> ActorKind {
        self.0.kind.into()
    }
    async fn mentions(&self) -> i32 {
        self.0.mentions
    }
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }
    async fn stances(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stance<'_>>> {
        listed(ctx, self.0.stances.iter().map(Stance).collect())
    }
}

pub struct Quote<'a>(pub &'a view::Quote);

#[Object]
impl Quote<'_> {
    async fn speaker(&self) -> &str {
        &self.0.speaker
    }
    async fn speaker_role(&self) -> Option<&str> {
        self.0.speaker_role.as_deref()
    }
    async fn text(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        charged(ctx, &self.0.text)
    }
    async fn development_id(&self) -> Uuid {
        self.0.development_id
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

pub struct Figure<'a>(pub &'a view::Figure);

#[Object]
impl Figure<'_> {
    async fn metric(&self) -> &str {
        &self.0.metric
    }
    async fn value(&self) -> f64 {
        self.0.value
    }
    async fn qualifier(&self) -> FigureQualifier {
        self.0.qualifier.into()
    }
    async fn unit(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    async fn development_id(&self) -> Uuid {
        self.0.development_id
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// Who states the figure (a person, office or outlet); null when the report does not attribute it.
    async fn claimed_by(&self) -> Option<&str> {
        self.0.claimed_by.as_deref()
    }
    /// A stated range around value (e.g. 'between 4 and 7 killed'): low <= value <= high.
    async fn low(&self) -> Option<f64> {
        self.0.low
    }
    async fn high(&self) -> Option<f64> {
        self.0.high
    }
}

pub struct Stance<'a>(pub &'a view::Stance);

#[Object]
impl Stance<'_> {
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn target(&self) -> &str {
        &self.0.target
    }
    async fn position(&self) -> StancePosition {
        self.0.position.into()
    }
    async fn summary(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.0.summary.as_deref())
    }
    async fn development_id(&self) -> Uuid {
        self.0.development_id
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}

pub struct Source<'a>(pub &'a model::Source);

#[Object]
impl Source<'_> {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        charged_opt(ctx, self.0.url.as_deref())
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn kind(&self) -> Option<SourceKind> {
        self.0.kind.map(Into::into)
    }
    /// The report this source is, when it cites one.
    async fn report_id(&self) -> Option<Uuid> {
        self.0.report_id
    }
    /// That report; null without a live token.
    async fn report(&self, ctx: &Context<'_>) -> ApiResult<Option<super::reports::Report>> {
        super::reports::source_report(ctx, self.0).await
    }
    /// The cited passages of the report's text.
    async fn spans(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::reports::Span>> {
        super::reports::source_spans(ctx, self.0).await
    }
}

pub struct StoryChanges(pub replay::StoryChanges);

#[Object]
impl StoryChanges {
    async fn from(&self) -> DateTime<Utc> {
        self.0.from
    }
    async fn to(&self) -> DateTime<Utc> {
        self.0.to
    }
    /// Developments whose occurredAt lies in (from, to].
    async fn added(&self, ctx: &Context<'_>) -> ApiResult<Vec<Development<'_>>> {
        listed(ctx, self.0.added.iter().map(Development).collect())
    }
    /// Figures of `to` whose value or qualifier differs from `from` (or are new).
    async fn figures_changed(&self, ctx: &Context<'_>) -> ApiResult<Vec<Figure<'_>>> {
        listed(ctx, self.0.figures_changed.iter().map(Figure).collect())
    }
    /// Stances present at `to` but not at `from`.
    async fn stances_changed(&self, ctx: &Context<'_>) -> ApiResult<Vec<Stance<'_>>> {
        listed(ctx, self.0.stances_changed.iter().map(Stance).collect())
    }
}

/// Shared: a live event goes to every subscriber without being copied.
pub struct Event(pub Arc<RecordedEvent>);

impl From<RecordedEvent> for Event {
    fn from(event: RecordedEvent) -> Self {
        Event(Arc::new(event))
    }
}

#[Object]
impl Event {
    async fn id(&self) -> Uuid {
        self.0.id.0
    }
    /// Global commit order, a 64-bit integer as a decimal string.
    async fn position(&self) -> String {
        self.0.position.to_string()
    }
    async fn story_id(&self) -> Uuid {
        self.0.story_id.0
    }
    async fn version(&self) -> i32 {
        self.0.version.0
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        self.0.event_type.as_str()
    }
    async fn schema_version(&self) -> i32 {
        self.0.schema_version
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    async fn payload(&self, ctx: &Context<'_>) -> ApiResult<Json<&serde_json::Value>> {
        charge_json(ctx, &self.0.payload)?;
        Ok(Json(&self.0.payload))
    }
    /// Who appended it and in answer to what; without a token, the
    /// principal (a token's name) is left out.
    async fn metadata(&self, ctx: &Context<'_>) -> ApiResult<Json<serde_json::Value>> {
        let mut metadata = self.0.metadata.clone();
        if super::context::public_only(ctx) {
            if let Some(fields) = metadata.as_object_mut() {
                fields.remove("principal");
            }
        }
        charge_json(ctx, &metadata)?;
        Ok(Json(metadata))
    }
}
