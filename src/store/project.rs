//! The story snapshot of events appended by `sql/append/several.sql`: each
//! event's projection statement (`sql/project/*.sql`), in version order,
//! inside the append's transaction, then the story row moved on once. The
//! one-event and all-reports append statements write their projection
//! themselves.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::events::EventType;
use crate::domain::StoryId;

/// One stored event, as the projection needs it.
pub(super) struct Projected<'a> {
    pub event_type: EventType,
    pub payload: &'a serde_json::Value,
    pub version: i32,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// The search document of a StoryOpened or DevelopmentReported event.
    pub search: Option<&'a str>,
}

/// Projects a story's events, in version order, on `conn` (inside the
/// caller's transaction). Runs of DevelopmentReported go in one statement.
/// False when an event breaks a rule of the fold (nothing to correct, say):
/// the caller must roll back.
pub(super) async fn project(
    conn: &mut PgConnection,
    story: StoryId,
    events: &[Projected<'_>],
) -> Result<bool, sqlx::Error> {
    let is_report = |e: &Projected<'_>| e.event_type == EventType::DevelopmentReported;
    // A run of reports is projected by one statement at one recording
    // time: kept times (an import) may differ within an append.
    let same_run = |a: &Projected<'_>, b: &Projected<'_>| {
        is_report(a) && is_report(b) && a.recorded_at == b.recorded_at
    };
    for run in events.chunk_by(same_run) {
        let Some(first) = run.first() else { continue };
        let projected = match first.event_type {
            EventType::DevelopmentReported => project_reports(&mut *conn, story, run).await?,
            EventType::StoryOpened => {
                bind_event(sql!("project/story_opened"), story, first)
                    .bind(first.search)
                    .fetch_one(&mut *conn)
                    .await?
            }
            EventType::DevelopmentCorrected => {
                bind_event(sql!("project/development_corrected"), story, first)
                    .fetch_one(&mut *conn)
                    .await?
            }
            EventType::DevelopmentRetracted => {
                bind_event(sql!("project/development_retracted"), story, first)
                    .fetch_one(&mut *conn)
                    .await?
            }
            EventType::StoryStatusChanged => {
                bind_event(sql!("project/story_status_changed"), story, first)
                    .fetch_one(&mut *conn)
                    .await?
            }
            EventType::DevelopmentVerificationChanged => {
                bind_event(
                    sql!("project/development_verification_changed"),
                    story,
                    first,
                )
                .fetch_one(&mut *conn)
                .await?
            }
            EventType::StoryVisibilityChanged => {
                bind_event(sql!("project/story_visibility_changed"), story, first)
                    .fetch_one(&mut *conn)
                    .await?
            }
        };
        if projected != run.len() as i64 {
            return Ok(false);
        }
        if first.event_type == EventType::DevelopmentCorrected {
            // Its merged development, analysed afresh.
            super::search::reindex_corrected(&mut *conn, story, first.payload).await?;
        }
    }
    if let Some(last) = events.last().filter(|e| !writes_story_row(e.event_type)) {
        move_story_row_on(conn, story, last).await?;
    }
    Ok(true)
}

/// Whether an event's projection statement sets the story row's version
/// itself (it writes that row anyway); the others leave it to
/// `move_story_row_on`, once an append.
fn writes_story_row(event_type: EventType) -> bool {
    matches!(
        event_type,
        EventType::StoryOpened | EventType::StoryStatusChanged | EventType::StoryVisibilityChanged
    )
}

/// The story row at the append's last event (`sql/project/story_moved_on.sql`).
async fn move_story_row_on(
    conn: &mut PgConnection,
    story: StoryId,
    last: &Projected<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql!("project/story_moved_on"))
        .bind(story.0)
        .bind(last.version)
        .bind(last.recorded_at)
        .execute(conn)
        .await?;
    Ok(())
}

type CountQuery<'q> = sqlx::query::QueryScalar<
    'q,
    sqlx::Postgres,
    i64,
    <sqlx::Postgres as sqlx::Database>::Arguments<'q>,
>;

/// A projection statement with the parameters every one of them takes
/// (`$1`–`$6`, see `sql/project/story_opened.sql`).
fn bind_event<'q>(sql: &'q str, story: StoryId, event: &'q Projected<'_>) -> CountQuery<'q> {
    sqlx::query_scalar(sql)
        .bind(story.0)
        .bind(event.version)
        .bind(event.event_type.as_str())
        .bind(event.payload)
        .bind(event.occurred_at)
        .bind(event.recorded_at)
}

async fn project_reports(
    conn: &mut PgConnection,
    story: StoryId,
    reports: &[Projected<'_>],
) -> Result<i64, sqlx::Error> {
    let Some(last) = reports.last() else {
        return Ok(0);
    };
    let payloads: Vec<&serde_json::Value> = reports.iter().map(|e| e.payload).collect();
    let versions: Vec<i32> = reports.iter().map(|e| e.version).collect();
    let searches: Vec<Option<&str>> = reports.iter().map(|e| e.search).collect();
    sqlx::query_scalar(sql!("project/reported_run"))
        .bind(story.0)
        .bind(payloads)
        .bind(versions)
        .bind(last.recorded_at)
        .bind(searches)
        .fetch_one(conn)
        .await
}
