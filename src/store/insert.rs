//! One attempt at an append: which statement carries it, and its binds.
//!
//! - one event: `sql/append/<type>.sql`, event and projection in one
//!   statement (a one-event report first tries the statement it shares
//!   with other callers, `batch.rs`);
//! - several reports: `sql/append/reports.sql`, one statement;
//! - several events of mixed types: `sql/append/several.sql`, then each
//!   event's projection (`project.rs`) in the same transaction.
//!
//! Each returns the placements of the events, or none when a check failed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::append::Append;
use super::batch::{Batched, Placement, Submission};
use super::project::{project, Projected};
use super::search;
use super::{NewEvent, Store};
use crate::domain::events::EventType;
use crate::domain::search::SearchDocument;

/// The statement appending one event of `event_type` with its projection.
/// Each takes the same parameters (see `sql/append/story_opened.sql`) and
/// derives the event's occurredAt from its payload when the caller leaves
/// it out (see [`NewEvent::occurred_at`]).
fn append_one_sql(event_type: EventType) -> &'static str {
    match event_type {
        EventType::StoryOpened => sql!("append/story_opened"),
        EventType::DevelopmentReported => sql!("append/development_reported"),
        EventType::DevelopmentCorrected => sql!("append/development_corrected"),
        EventType::DevelopmentRetracted => sql!("append/development_retracted"),
        EventType::StoryStatusChanged => sql!("append/story_status_changed"),
        EventType::DevelopmentVerificationChanged => {
            sql!("append/development_verification_changed")
        }
        EventType::StoryVisibilityChanged => sql!("append/story_visibility_changed"),
    }
}

impl Store {
    /// Tries the append once. A first attempt of a one-event report goes
    /// into a batch with other writers' appends; a retry goes alone, so
    /// that a failing batch cannot keep failing it.
    pub(super) async fn insert_attempt(
        &self,
        append: &Append<'_>,
        first: bool,
    ) -> Result<Vec<Placement>, sqlx::Error> {
        match (append.events, append.documents) {
            // Kept recording times go the one way that takes them.
            _ if append.kept.is_some() => self.insert_several(append).await,
            ([event], [document]) => {
                let shares_a_batch = first
                    && self.group_appends
                    && event.event_type == EventType::DevelopmentReported;
                if shares_a_batch {
                    self.insert_in_batch(append, event, document).await
                } else {
                    self.insert_one(append, event, document).await
                }
            }
            (events, _) if events.iter().all(is_report) => self.insert_reports(append).await,
            _ => self.insert_several(append).await,
        }
    }

    /// One reported development in a batch with other callers' (see
    /// `batch.rs`); alone if the batch fails.
    async fn insert_in_batch(
        &self,
        append: &Append<'_>,
        event: &NewEvent,
        document: &Option<SearchDocument>,
    ) -> Result<Vec<Placement>, sqlx::Error> {
        let submission = Submission {
            story: append.story.0,
            expected: append.expected.map(|v| v.0),
            id: event.id.0,
            schema_version: event.schema_version,
            payload: event.payload.to_string(),
            // Read here, the batch statement need not parse the payload's
            // text a second time to find it.
            occurred_at: event
                .occurred_at
                .or_else(|| reported_occurred_at(&event.payload)),
            metadata: append.metadata.to_string(),
            token: append.token.copied(),
            search: document.as_ref().map(|d| d.as_str().to_owned()),
        };
        match self.batcher.submit(submission).await {
            Batched::Placed(placement) => Ok(vec![placement]),
            Batched::NotPlaced => Ok(Vec::new()),
            Batched::Failed => self.insert_one(append, event, document).await,
        }
    }

    async fn insert_one(
        &self,
        append: &Append<'_>,
        event: &NewEvent,
        document: &Option<SearchDocument>,
    ) -> Result<Vec<Placement>, sqlx::Error> {
        let statement = sqlx::query_as::<_, Placement>(append_one_sql(event.event_type))
            .bind(append.story.0)
            .bind(append.expected.map(|v| v.0))
            .bind(event.id.0)
            .bind(event.event_type.as_str())
            .bind(event.schema_version)
            .bind(&event.payload)
            .bind(event.occurred_at)
            .bind(append.metadata)
            .bind(append.token.map(|t| t.as_bytes()))
            .bind(document.as_ref().map(SearchDocument::as_str));
        match event.event_type {
            EventType::StoryOpened
            | EventType::DevelopmentReported
            | EventType::DevelopmentRetracted
            | EventType::StoryStatusChanged
            | EventType::DevelopmentVerificationChanged
            | EventType::StoryVisibilityChanged => statement.fetch_all(&self.pool).await,
            EventType::DevelopmentCorrected => {
                // A correction re-analyses its development once the
                // statement has merged it: one transaction around both.
                let mut tx = self.pool.begin().await?;
                let placements = statement.fetch_all(&mut *tx).await?;
                if !placements.is_empty() {
                    search::reindex_corrected(&mut tx, append.story, &event.payload).await?;
                    tx.commit().await?;
                }
                Ok(placements)
            }
        }
    }

    /// Several reports, one statement.
    async fn insert_reports(&self, append: &Append<'_>) -> Result<Vec<Placement>, sqlx::Error> {
        let columns = Columns::of(append.events);
        let documents: Vec<Option<&str>> = append
            .documents
            .iter()
            .map(|d| d.as_ref().map(SearchDocument::as_str))
            .collect();
        sqlx::query_as::<_, Placement>(sql!("append/reports"))
            .bind(append.story.0)
            .bind(append.expected.map(|v| v.0))
            .bind(&columns.ids)
            .bind(&columns.schema_versions)
            .bind(&columns.payloads)
            .bind(&columns.occurred_at)
            .bind(&documents)
            .bind(append.metadata)
            .bind(append.token.map(|t| t.as_bytes()))
            .fetch_all(&self.pool)
            .await
    }

    /// Several events of mixed types: the events, then their projection,
    /// in one transaction that a broken rule rolls back.
    async fn insert_several(&self, append: &Append<'_>) -> Result<Vec<Placement>, sqlx::Error> {
        let columns = Columns::of(append.events);
        let kept: Option<(Vec<DateTime<Utc>>, Vec<&serde_json::Value>)> = append
            .kept
            .map(|kept| kept.iter().map(|k| (k.recorded_at, &k.metadata)).unzip());
        let mut tx = self.pool.begin().await?;
        let mut placements = sqlx::query_as::<_, Placement>(sql!("append/several"))
            .bind(append.story.0)
            .bind(append.expected.map(|v| v.0))
            .bind(&columns.ids)
            .bind(&columns.types)
            .bind(&columns.schema_versions)
            .bind(&columns.payloads)
            .bind(&columns.occurred_at)
            .bind(append.metadata)
            .bind(append.token.map(|t| t.as_bytes()))
            .bind(kept.as_ref().map(|(times, _)| times))
            .bind(kept.as_ref().map(|(_, metadata)| metadata))
            .fetch_all(&mut *tx)
            .await?;
        if placements.len() != append.events.len() {
            return Ok(Vec::new());
        }
        placements.sort_unstable_by_key(|placed| placed.version);
        let projected: Vec<Projected<'_>> = append
            .events
            .iter()
            .zip(&placements)
            .zip(append.documents)
            .map(|((event, placed), document)| Projected {
                event_type: event.event_type,
                payload: &event.payload,
                version: placed.version,
                occurred_at: placed.occurred_at,
                recorded_at: placed.recorded_at,
                search: document.as_ref().map(SearchDocument::as_str),
            })
            .collect();
        if !project(&mut tx, append.story, &projected).await? {
            // A rule of the fold is broken; dropping `tx` rolls back.
            return Ok(Vec::new());
        }
        tx.commit().await?;
        Ok(placements)
    }
}

fn is_report(event: &NewEvent) -> bool {
    event.event_type == EventType::DevelopmentReported
}

/// A DevelopmentReported payload's occurredAt (its Event.occurredAt).
fn reported_occurred_at(payload: &serde_json::Value) -> Option<DateTime<Utc>> {
    let text = payload.get("occurredAt")?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// The events as parallel arrays, the shape `unnest` takes, borrowing the
/// payloads rather than copying them.
pub(super) struct Columns<'a> {
    pub ids: Vec<Uuid>,
    pub types: Vec<&'static str>,
    pub schema_versions: Vec<i32>,
    pub payloads: Vec<&'a serde_json::Value>,
    pub occurred_at: Vec<Option<DateTime<Utc>>>,
}

impl Columns<'_> {
    pub(super) fn of(events: &[NewEvent]) -> Columns<'_> {
        Columns {
            ids: events.iter().map(|e| e.id.0).collect(),
            types: events.iter().map(|e| e.event_type.as_str()).collect(),
            schema_versions: events.iter().map(|e| e.schema_version).collect(),
            payloads: events.iter().map(|e| &e.payload).collect(),
            occurred_at: events.iter().map(|e| e.occurred_at).collect(),
        }
    }
}
