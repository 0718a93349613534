//! The story snapshot: the tables `stories`, `story_developments` and
//! `story_search` that the append statements keep in step with each event
//! (`sql/append/`, `sql/project/`), read back here as a fold.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::events::{DecodeError, DevelopmentReported};
use crate::domain::fold::{DevelopmentRecord, RetractedRecord, StoryFold};
use crate::domain::model::{StoryStatus, StoryVisibility};
use crate::domain::{StoryId, Version};

#[derive(sqlx::FromRow)]
struct StoryRow {
    story_id: Uuid,
    slug: String,
    title: String,
    summary: Option<String>,
    topics: serde_json::Value,
    status: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    visibility: String,
    embargo_until: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct DevelopmentRow {
    story_id: Uuid,
    development_id: Uuid,
    /// As text: parsed straight into the payload type.
    payload: String,
    occurred_at: DateTime<Utc>,
    reported_in_version: i32,
    corrected_in_versions: Vec<i32>,
    retracted_in_version: Option<i32>,
    retraction_reason: Option<String>,
    reported_at: DateTime<Utc>,
    /// As text: parsed straight into the verdicts.
    verifications: String,
}

impl Store {
    /// The story's current state from the projection, as a fold, or `None`
    /// when no such story exists.
    pub async fn load_snapshot(&self, story: StoryId) -> Result<Option<StoryFold>, StoreError> {
        self.load_snapshots(&[story])
            .await?
            .remove(&story)
            .transpose()
    }

    /// The current state of each of `stories` that exists, in two
    /// statements however many they are; a story whose rows this code
    /// cannot read is an error of its own, not of the others.
    pub async fn load_snapshots(
        &self,
        stories: &[StoryId],
    ) -> Result<HashMap<StoryId, Result<StoryFold, StoreError>>, StoreError> {
        let ids: Vec<Uuid> = stories.iter().map(|s| s.0).collect();
        let headers: Vec<StoryRow> = sqlx::query_as(sql!("snapshot/story_rows"))
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        if headers.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<DevelopmentRow> = sqlx::query_as(sql!("snapshot/development_rows"))
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        let mut by_story: HashMap<Uuid, Vec<DevelopmentRow>> = HashMap::new();
        for row in rows {
            by_story.entry(row.story_id).or_default().push(row);
        }
        Ok(headers
            .into_iter()
            .map(|header| {
                let rows = by_story.remove(&header.story_id).unwrap_or_default();
                let id = StoryId(header.story_id);
                (id, fold_from_rows(header, rows))
            })
            .collect())
    }
}

/// A snapshot row this code cannot read: it holds what an event stored
/// (a payload, a status), so it fails as that event would.
fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Undecodable(DecodeError::Payload {
        event_type: "snapshot row".into(),
        message: what.to_string(),
    })
}

fn fold_from_rows(header: StoryRow, rows: Vec<DevelopmentRow>) -> Result<StoryFold, StoreError> {
    let status: StoryStatus =
        serde_json::from_value(serde_json::Value::String(header.status)).map_err(corrupt)?;
    let visibility: StoryVisibility =
        serde_json::from_value(serde_json::Value::String(header.visibility)).map_err(corrupt)?;
    let mut fold = StoryFold::empty(StoryId(header.story_id));
    fold.slug = header.slug;
    fold.title = header.title;
    fold.summary = header.summary;
    fold.topics = serde_json::from_value(header.topics).map_err(corrupt)?;
    fold.status = status;
    fold.visibility = visibility;
    fold.embargo_until = header.embargo_until;
    fold.version = Version(header.version);
    fold.opened_at = Some(header.created_at);
    fold.updated_at = Some(header.updated_at);
    fold.developments = HashMap::with_capacity(rows.len());
    for row in rows {
        row.add_to(&mut fold)?;
    }
    fold.retracted.sort_by_key(|r| r.retracted_in_version);
    Ok(fold)
}

impl DevelopmentRow {
    /// Adds the development to the fold's live or retracted ones.
    fn add_to(self, fold: &mut StoryFold) -> Result<(), StoreError> {
        let reported: DevelopmentReported = serde_json::from_str(&self.payload).map_err(corrupt)?;
        if let Some(version) = self.retracted_in_version {
            fold.retracted.push(RetractedRecord {
                id: self.development_id,
                headline: reported.headline,
                reason: self.retraction_reason.unwrap_or_default(),
                retracted_in_version: Version(version),
                occurred_at: self.occurred_at,
            });
            return Ok(());
        }
        let record = DevelopmentRecord {
            id: self.development_id,
            headline: reported.headline,
            summary: reported.summary,
            occurred_at: self.occurred_at,
            precision: reported.precision,
            location: reported.location,
            actors: reported.actors,
            quotes: reported.quotes,
            figures: reported.figures,
            stances: reported.stances,
            sources: reported.sources,
            tags: reported.tags,
            reported_in_version: Version(self.reported_in_version),
            corrected_in_versions: self
                .corrected_in_versions
                .into_iter()
                .map(Version)
                .collect(),
            reported_at: self.reported_at,
            verification_history: serde_json::from_str(&self.verifications).map_err(corrupt)?,
        };
        fold.developments.insert(record.id, record);
        Ok(())
    }
}
