//! The Mutation root: each mutation authenticates, builds one domain event,
//! validates it, and appends it.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::context::{store, viewer};
use super::errors::{ApiError, ApiResult, TOKEN_NOT_LIVE, UNAVAILABLE_WRITE};
use super::inputs::{
    DevelopmentInput, DevelopmentPatch, OpenStoryInput, StoryStatus, StoryVisibility,
    VerificationStatus,
};
use super::query::Story;
use super::reports::{Report, ReportInput, ReportResult};
use super::types::Event;
use crate::domain::events::{
    DevelopmentCorrected, DevelopmentRetracted, DevelopmentVerificationChanged, StoryEvent,
    StoryStatusChanged, StoryVisibilityChanged, SCHEMA_VERSION,
};
use crate::domain::{EventId, StoryId, Version};
use crate::metrics::Metrics;
use crate::store::{Credential, EventMetadata, NewEvent, Scope, Store};

/// Who is calling: a token seen live with the write scope; UNAUTHENTICATED
/// without a token (or with one revoked since it was seen), FORBIDDEN with
/// a live read token. The append checks again that it is live.
async fn credential(ctx: &Context<'_>) -> ApiResult<Credential> {
    let credential = viewer(ctx).0.clone().ok_or(ApiError::Unauthenticated(
        "mutations need an `Authorization: Bearer <token>` header",
    ))?;
    match credential.principal.scope {
        Scope::Write => Ok(credential),
        Scope::Read => Err(refused_input(
            store(ctx)?,
            &credential,
            ApiError::Forbidden("this token has the read scope; mutations need a write token"),
        )
        .await),
    }
}

/// The error for a mutation refused before appending: the append is what
/// checks that a token seen live before is still live, so without this a
/// revoked token would learn what its input lacked (or its scope).
async fn refused_input(store: &Store, credential: &Credential, invalid: ApiError) -> ApiError {
    match store.is_credential_live(credential).await {
        Ok(true) => invalid,
        Ok(false) => ApiError::Unauthenticated(TOKEN_NOT_LIVE),
        Err(e) => e.into(),
    }
}

/// The expected version and the event, if both are valid.
fn checked_input(
    expected_version: Option<i32>,
    event: StoryEvent,
) -> ApiResult<(Option<Version>, StoryEvent)> {
    if expected_version.is_some_and(|v| v < 0) {
        return Err(ApiError::bad_input("expectedVersion must not be negative"));
    }
    Ok((expected_version.map(Version), event.validated()?))
}

/// The sources an event gives its development, which may cite reports.
fn cited_sources(event: &StoryEvent) -> &[crate::domain::model::Source] {
    match event {
        StoryEvent::DevelopmentReported(e) => &e.sources,
        StoryEvent::DevelopmentCorrected(e) => e.changes.sources.as_deref().unwrap_or_default(),
        _ => &[],
    }
}

/// One event to append, as a mutation decided it.
struct Command {
    story: StoryId,
    expected_version: Option<i32>,
    event_id: EventId,
    event: StoryEvent,
}

impl Command {
    async fn run(self, ctx: &Context<'_>) -> ApiResult<AppendResult> {
        let outcome = match self.append(ctx).await {
            // The append may have committed before the database went
            // silent: only a retry with the same event id can tell.
            Err(ApiError::Unavailable(_)) => Err(ApiError::Unavailable(UNAVAILABLE_WRITE)),
            outcome => outcome,
        };
        if let Some(metrics) = ctx.data_opt::<Metrics>() {
            match &outcome {
                Ok(result) if result.deduplicated => metrics.record_deduplicated(),
                Ok(result) => metrics.record_appended(result.events.len() as u64),
                Err(ApiError::VersionConflict { .. }) => metrics.record_version_conflict(),
                Err(refused @ (ApiError::Unauthenticated(_) | ApiError::Forbidden(_))) => {
                    metrics.record_refused(refused.code())
                }
                Err(_) => {}
            }
        }
        outcome
    }

    async fn append(self, ctx: &Context<'_>) -> ApiResult<AppendResult> {
        let credential = credential(ctx).await?;
        let store = store(ctx)?;
        let (expected, event) = match checked_input(self.expected_version, self.event) {
            Ok(checked) => checked,
            Err(invalid) => return Err(refused_input(store, &credential, invalid).await),
        };
        if let Err(invalid) = super::reports::check_citations(store, cited_sources(&event)).await {
            return Err(refused_input(store, &credential, invalid).await);
        }
        let new_event = NewEvent {
            id: self.event_id,
            // The store derives occurredAt from the payload and the story.
            ..NewEvent::from_event(&event, None)
        };
        let metadata = EventMetadata {
            source: Some("graphql".into()),
            ..EventMetadata::by(credential.principal.name.clone())
        };
        let outcome = store
            .append_as(&credential, self.story, expected, &[new_event], &metadata)
            .await?;
        // Read-your-writes: the append statement updated the story row; a
        // retry shows the story as it is now, read when asked for.
        let story = match outcome.events.last() {
            Some(last) if !outcome.deduplicated => {
                Story::after_append(self.story, last.version, last.recorded_at)
            }
            _ => match store.story_header(self.story).await? {
                Some(header) => Story::from_header(header),
                None => return Err(ApiError::Internal("the story vanished after an append")),
            },
        };
        Ok(AppendResult {
            story,
            events: outcome.events.into_iter().map(Event::from).collect(),
            deduplicated: outcome.deduplicated,
        })
    }
}

fn event_id_or_new(event_id: Option<Uuid>) -> EventId {
    event_id.map_or_else(EventId::generate, EventId)
}

pub struct AppendResult {
    story: Story,
    events: Vec<Event>,
    deduplicated: bool,
}

#[Object]
impl AppendResult {
    async fn story(&self) -> &Story {
        &self.story
    }
    /// The events this call appended; on an idempotent retry, the events stored by the first call.
    async fn events(&self) -> &[Event] {
        &self.events
    }
    /// Whether this call was a retry of an earlier one (same eventId, same content) and appended nothing.
    async fn deduplicated(&self) -> bool {
        self.deduplicated
    }
    /// Send this back in the Storyline-Read-After request header and the read sees this write, whichever replica serves it (DESIGN.md §13).
    ///
    /// Read when asked for, after the commit: the primary's WAL insert position then.
    async fn read_after(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(store(ctx)?.read_after().await?)
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Opens a story. Its id is the id of the event that opens it, so a
    /// retry with the same eventId finds the same story.
    async fn open_story(
        &self,
        ctx: &Context<'_>,
        input: OpenStoryInput,
    ) -> ApiResult<AppendResult> {
        let event_id = event_id_or_new(input.event_id);
        Command {
            story: StoryId(event_id.0),
            expected_version: None,
            event_id,
            event: StoryEvent::StoryOpened(input.into_event()),
        }
        .run(ctx)
        .await
    }

    /// Reports a development. Without a developmentId it takes the event's
    /// id, so a retry with the same eventId reports the same development.
    /// Keeps a report and drafts its developments. Idempotent: the same report again (same uri and version, or without a uri the same text) returns the stored one with deduplicated: true.
    async fn submit_report(
        &self,
        ctx: &Context<'_>,
        input: ReportInput,
    ) -> ApiResult<ReportResult> {
        super::reports::submit_report(ctx, input).await
    }

    /// Marks a report DISMISSED with a reason; dismissing it again records the new reason. NOT_FOUND for an unknown id.
    async fn dismiss_report(
        &self,
        ctx: &Context<'_>,
        report_id: Uuid,
        reason: String,
    ) -> ApiResult<Report> {
        super::reports::dismiss_report(ctx, report_id, reason).await
    }

    async fn report_development(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        input: DevelopmentInput,
    ) -> ApiResult<AppendResult> {
        let event_id = event_id_or_new(event_id);
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id,
            event: StoryEvent::DevelopmentReported(input.into_event(event_id.0)),
        }
        .run(ctx)
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn correct_development(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        development_id: Uuid,
        changes: DevelopmentPatch,
        reason: String,
    ) -> ApiResult<AppendResult> {
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id: event_id_or_new(event_id),
            event: StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
                schema_version: SCHEMA_VERSION,
                development_id,
                changes: changes.into(),
                reason,
            }),
        }
        .run(ctx)
        .await
    }

    async fn retract_development(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        development_id: Uuid,
        reason: String,
    ) -> ApiResult<AppendResult> {
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id: event_id_or_new(event_id),
            event: StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
                schema_version: SCHEMA_VERSION,
                development_id,
                reason,
            }),
        }
        .run(ctx)
        .await
    }

    async fn set_story_status(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        status: StoryStatus,
        reason: Option<String>,
    ) -> ApiResult<AppendResult> {
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id: event_id_or_new(event_id),
            event: StoryEvent::StoryStatusChanged(StoryStatusChanged {
                schema_version: SCHEMA_VERSION,
                status: status.into(),
                reason,
            }),
        }
        .run(ctx)
        .await
    }

    /// Appends DevelopmentVerificationChanged. The target must exist and not be retracted.
    #[allow(clippy::too_many_arguments)]
    async fn set_verification(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        development_id: Uuid,
        status: VerificationStatus,
        note: Option<String>,
    ) -> ApiResult<AppendResult> {
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id: event_id_or_new(event_id),
            event: StoryEvent::DevelopmentVerificationChanged(DevelopmentVerificationChanged {
                schema_version: SCHEMA_VERSION,
                development_id,
                status: status.into(),
                note,
            }),
        }
        .run(ctx)
        .await
    }

    /// Appends StoryVisibilityChanged. embargoUntil: the story stays INTERNAL until then, whatever visibility says.
    async fn set_story_visibility(
        &self,
        ctx: &Context<'_>,
        story_id: Uuid,
        expected_version: Option<i32>,
        event_id: Option<Uuid>,
        visibility: StoryVisibility,
        embargo_until: Option<DateTime<Utc>>,
    ) -> ApiResult<AppendResult> {
        Command {
            story: StoryId(story_id),
            expected_version,
            event_id: event_id_or_new(event_id),
            event: StoryEvent::StoryVisibilityChanged(StoryVisibilityChanged {
                schema_version: SCHEMA_VERSION,
                visibility: visibility.into(),
                embargo_until,
            }),
        }
        .run(ctx)
        .await
    }
}
