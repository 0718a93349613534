//! The NDJSON exchange format of `storyline import` and `export`:
//! `{"story": slug, "type": EventType, "id": uuid, "data": payload}`, one
//! event per line; export adds position, version, recordedAt and metadata.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{EventType, StoryEvent};
use super::validate::InvalidInput;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeLine {
    pub story: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub id: Uuid,
    pub data: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// A line that is not an event: a report (written before the events, so
/// that the sources citing it follow it) or a dismissal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum RecordLine {
    Report(Box<super::report::ExportedReport>),
    Dismissal(super::report::Dismissal),
}

impl RecordLine {
    /// The record a line holds, when it is not an event line: None for
    /// an event line, the reason for a record line that is wrong.
    pub fn parse(line: &str) -> Option<Result<RecordLine, ImportLineError>> {
        let trimmed = line.trim_start();
        let is_record = ["{\"report\"", "{\"dismissal\""]
            .iter()
            .any(|p| trimmed.starts_with(p));
        if !is_record {
            return None;
        }
        Some(
            serde_json::from_str::<RecordLine>(line)
                .map_err(|e| ImportLineError::Syntax(e.to_string()))
                .and_then(|record| match record {
                    RecordLine::Report(report) => {
                        Ok(RecordLine::Report(Box::new(report.checked()?)))
                    }
                    dismissal => Ok(dismissal),
                }),
        )
    }
}

/// One imported event, decoded and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedEvent {
    pub slug: String,
    pub id: Uuid,
    pub event: StoryEvent,
    /// What an export line carries besides: kept by `import
    /// --keep-recorded-at`, ignored otherwise.
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportLineError {
    #[error("not an import line: {0}")]
    Syntax(String),
    #[error("{0}")]
    Decode(#[from] super::events::DecodeError),
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("StoryOpened's slug {data:?} differs from the line's story {story:?}")]
    SlugMismatch { story: String, data: String },
}

/// Reads one line. StoryOpened's data need not repeat the slug: the line's
/// `story` field is the slug.
pub fn parse_import_line(line: &str) -> Result<ImportedEvent, ImportLineError> {
    let mut parsed: ExchangeLine =
        serde_json::from_str(line).map_err(|e| ImportLineError::Syntax(e.to_string()))?;
    let schema_version = parsed
        .data
        .get("schemaVersion")
        .and_then(serde_json::Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or(super::events::SCHEMA_VERSION);
    let event_type: EventType = parsed.event_type.parse()?;
    if event_type == EventType::StoryOpened {
        if let Some(fields) = parsed.data.as_object_mut() {
            match fields.get("slug").and_then(serde_json::Value::as_str) {
                Some(slug) if slug != parsed.story => {
                    return Err(ImportLineError::SlugMismatch {
                        story: parsed.story,
                        data: slug.to_owned(),
                    })
                }
                Some(_) => {}
                None => {
                    fields.insert("slug".into(), parsed.story.clone().into());
                }
            }
        }
    }
    let event = StoryEvent::from_payload(event_type, schema_version, parsed.data)?.validated()?;
    Ok(ImportedEvent {
        slug: parsed.story,
        id: parsed.id,
        event,
        recorded_at: parsed.recorded_at,
        metadata: parsed.metadata,
    })
}
