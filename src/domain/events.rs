//! The five events of a story, their payloads, and how they travel as
//! (type, schema version, JSON payload).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{
    ActorRef, FigureInput, Location, QuoteInput, Source, StanceInput, StoryStatus, TimePrecision,
};

/// The payload schema version this code writes. Older payloads are upcast
/// when read (see [`upcast`]), never rewritten.
pub const SCHEMA_VERSION: i32 = 1;

fn current_schema_version() -> i32 {
    SCHEMA_VERSION
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryOpened {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub slug: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default)]
    pub topics: Vec<String>,
}

/// A development as reported: the fields of the contract's DevelopmentInput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentReported {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub development_id: Uuid,
    pub headline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub precision: TimePrecision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default)]
    pub actors: Vec<ActorRef>,
    #[serde(default)]
    pub quotes: Vec<QuoteInput>,
    #[serde(default)]
    pub figures: Vec<FigureInput>,
    #[serde(default)]
    pub stances: Vec<StanceInput>,
    #[serde(default)]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl DevelopmentReported {
    /// A development with only its required fields; lists empty, precision
    /// the default.
    pub fn new(
        development_id: Uuid,
        headline: impl Into<String>,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        DevelopmentReported {
            schema_version: SCHEMA_VERSION,
            development_id,
            headline: headline.into(),
            summary: None,
            occurred_at,
            precision: TimePrecision::default(),
            location: None,
            actors: Vec::new(),
            quotes: Vec::new(),
            figures: Vec::new(),
            stances: Vec::new(),
            sources: Vec::new(),
            tags: Vec::new(),
        }
    }
}

/// The contract's DevelopmentPatch: present fields replace, lists replace
/// whole lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<TimePrecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actors: Option<Vec<ActorRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<Vec<QuoteInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figures: Option<Vec<FigureInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stances: Option<Vec<StanceInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Source>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentCorrected {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub development_id: Uuid,
    pub changes: DevelopmentPatch,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentRetracted {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub development_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryStatusChanged {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub status: StoryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One event of a story's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StoryEvent {
    StoryOpened(StoryOpened),
    DevelopmentReported(DevelopmentReported),
    DevelopmentCorrected(DevelopmentCorrected),
    DevelopmentRetracted(DevelopmentRetracted),
    StoryStatusChanged(StoryStatusChanged),
}

/// The event type names, as stored and as the contract's `Event.type`.
pub const EVENT_TYPES: [&str; 5] = [
    "StoryOpened",
    "DevelopmentReported",
    "DevelopmentCorrected",
    "DevelopmentRetracted",
    "StoryStatusChanged",
];

/// The JSON Schema of each event type's payload (what
/// `schema/events/<type>.json` holds), generated from these types.
pub fn payload_schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn schema<T: JsonSchema>(title: &str) -> serde_json::Value {
        let mut schema = schemars::schema_for!(T).to_value();
        if let Some(fields) = schema.as_object_mut() {
            fields.insert("title".into(), title.into());
        }
        schema
    }
    vec![
        (EVENT_TYPES[0], schema::<StoryOpened>(EVENT_TYPES[0])),
        (
            EVENT_TYPES[1],
            schema::<DevelopmentReported>(EVENT_TYPES[1]),
        ),
        (
            EVENT_TYPES[2],
            schema::<DevelopmentCorrected>(EVENT_TYPES[2]),
        ),
        (
            EVENT_TYPES[3],
            schema::<DevelopmentRetracted>(EVENT_TYPES[3]),
        ),
        (EVENT_TYPES[4], schema::<StoryStatusChanged>(EVENT_TYPES[4])),
    ]
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("{event_type} payload schema version {version} is newer than this server understands ({SCHEMA_VERSION})")]
    FutureSchema { event_type: String, version: i32 },
    #[error("invalid {event_type} payload: {message}")]
    Payload { event_type: String, message: String },
}

impl StoryEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            StoryEvent::StoryOpened(_) => EVENT_TYPES[0],
            StoryEvent::DevelopmentReported(_) => EVENT_TYPES[1],
            StoryEvent::DevelopmentCorrected(_) => EVENT_TYPES[2],
            StoryEvent::DevelopmentRetracted(_) => EVENT_TYPES[3],
            StoryEvent::StoryStatusChanged(_) => EVENT_TYPES[4],
        }
    }

    /// The development an event is about, if any.
    pub fn development_id(&self) -> Option<Uuid> {
        match self {
            StoryEvent::DevelopmentReported(e) => Some(e.development_id),
            StoryEvent::DevelopmentCorrected(e) => Some(e.development_id),
            StoryEvent::DevelopmentRetracted(e) => Some(e.development_id),
            _ => None,
        }
    }

    /// The payload as stored: camelCase JSON carrying its schemaVersion.
    pub fn to_payload(&self) -> serde_json::Value {
        let encoded = match self {
            StoryEvent::StoryOpened(e) => serde_json::to_value(e),
            StoryEvent::DevelopmentReported(e) => serde_json::to_value(e),
            StoryEvent::DevelopmentCorrected(e) => serde_json::to_value(e),
            StoryEvent::DevelopmentRetracted(e) => serde_json::to_value(e),
            StoryEvent::StoryStatusChanged(e) => serde_json::to_value(e),
        };
        // Plain structs of strings, numbers and lists always encode.
        encoded.unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored or imported payload, upcasting older schema versions.
    pub fn from_payload(
        event_type: &str,
        schema_version: i32,
        payload: serde_json::Value,
    ) -> Result<StoryEvent, DecodeError> {
        let payload = upcast(event_type, schema_version, payload)?;
        decode_as(event_type, payload)
    }

    /// Like [`StoryEvent::from_payload`] from the payload's JSON text: a
    /// payload of the current schema is parsed straight into its type,
    /// without building a `serde_json::Value` first (replays read
    /// thousands).
    pub fn from_payload_text(
        event_type: &str,
        schema_version: i32,
        payload: &str,
    ) -> Result<StoryEvent, DecodeError> {
        if schema_version != SCHEMA_VERSION {
            let value = serde_json::from_str(payload).map_err(|e| DecodeError::Payload {
                event_type: event_type.to_owned(),
                message: e.to_string(),
            })?;
            return StoryEvent::from_payload(event_type, schema_version, value);
        }
        decode_as(event_type, &mut serde_json::Deserializer::from_str(payload))
    }
}

/// The event of `event_type` that `payload` deserializes to.
fn decode_as<'de, D>(event_type: &str, payload: D) -> Result<StoryEvent, DecodeError>
where
    D: serde::Deserializer<'de>,
{
    let invalid = |e: D::Error| DecodeError::Payload {
        event_type: event_type.to_owned(),
        message: e.to_string(),
    };
    Ok(match event_type {
        "StoryOpened" => {
            StoryEvent::StoryOpened(StoryOpened::deserialize(payload).map_err(invalid)?)
        }
        "DevelopmentReported" => StoryEvent::DevelopmentReported(
            DevelopmentReported::deserialize(payload).map_err(invalid)?,
        ),
        "DevelopmentCorrected" => StoryEvent::DevelopmentCorrected(
            DevelopmentCorrected::deserialize(payload).map_err(invalid)?,
        ),
        "DevelopmentRetracted" => StoryEvent::DevelopmentRetracted(
            DevelopmentRetracted::deserialize(payload).map_err(invalid)?,
        ),
        "StoryStatusChanged" => StoryEvent::StoryStatusChanged(
            StoryStatusChanged::deserialize(payload).map_err(invalid)?,
        ),
        other => return Err(DecodeError::UnknownType(other.to_owned())),
    })
}

/// Brings a payload written under an older schema version up to
/// [`SCHEMA_VERSION`]. Each future version adds one step here (v1 → v2 →
/// …), so stored events are never rewritten.
pub fn upcast(
    event_type: &str,
    schema_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, DecodeError> {
    if schema_version > SCHEMA_VERSION {
        return Err(DecodeError::FutureSchema {
            event_type: event_type.to_owned(),
            version: schema_version,
        });
    }
    // Version 1 is the first; there is nothing older to convert yet. The
    // stored column is authoritative over a payload that omits the field.
    if let Some(fields) = payload.as_object_mut() {
        fields.insert("schemaVersion".into(), SCHEMA_VERSION.into());
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_round_trip_with_contract_spellings() {
        let payload = json!({
            "developmentId": "de74e538-5616-5a7e-b6ab-30180f0aa230",
            "headline": "Deal",
            "occurredAt": "2020-02-01T00:00:00Z",
            "precision": "MONTH",
            "actors": [{"name": "Taliban", "kind": "GROUP"}],
            "figures": [{"metric": "killed", "value": 4, "qualifier": "AT_LEAST", "place": "Kabul"}]
        });
        let event = StoryEvent::from_payload("DevelopmentReported", 1, payload).unwrap();
        let stored = event.to_payload();
        assert_eq!(stored["schemaVersion"], 1);
        assert_eq!(stored["precision"], "MONTH");
        assert_eq!(stored["figures"][0]["qualifier"], "AT_LEAST");
        assert_eq!(
            StoryEvent::from_payload("DevelopmentReported", 1, stored).unwrap(),
            event
        );
    }

    #[test]
    fn payload_text_decodes_as_the_json_value_does() {
        let payload = json!({
            "developmentId": "de74e538-5616-5a7e-b6ab-30180f0aa230",
            "headline": "Deal", "occurredAt": "2020-02-01T00:00:00Z",
            "actors": [{"name": "Taliban", "kind": "GROUP"}]
        });
        let text = payload.to_string();
        assert_eq!(
            StoryEvent::from_payload_text("DevelopmentReported", 1, &text),
            StoryEvent::from_payload("DevelopmentReported", 1, payload)
        );
        assert!(
            StoryEvent::from_payload_text("StoryStatusChanged", 1, r#"{"status":"X"}"#).is_err()
        );
        assert!(matches!(
            StoryEvent::from_payload_text("StoryStatusChanged", 2, r#"{"status":"ONGOING"}"#),
            Err(DecodeError::FutureSchema { .. })
        ));
    }

    #[test]
    fn unknown_enum_values_and_fields_are_rejected() {
        let bad_enum = json!({"status": "FINISHED"});
        assert!(StoryEvent::from_payload("StoryStatusChanged", 1, bad_enum).is_err());
        let extra = json!({"status": "ONGOING", "colour": "red"});
        assert!(StoryEvent::from_payload("StoryStatusChanged", 1, extra).is_err());
    }

    #[test]
    fn dates_without_offset_are_rejected() {
        let payload = json!({"developmentId": "de74e538-5616-5a7e-b6ab-30180f0aa230",
            "headline": "x", "occurredAt": "2021-07-13T00:00:00"});
        assert!(StoryEvent::from_payload("DevelopmentReported", 1, payload).is_err());
    }

    #[test]
    fn payloads_from_a_newer_schema_are_refused_not_misread() {
        let result =
            StoryEvent::from_payload("StoryStatusChanged", 2, json!({"status": "ONGOING"}));
        assert!(matches!(
            result,
            Err(DecodeError::FutureSchema { version: 2, .. })
        ));
    }

    #[test]
    fn unknown_event_types_are_refused() {
        let result = StoryEvent::from_payload("StoryDeleted", 1, json!({}));
        assert_eq!(result, Err(DecodeError::UnknownType("StoryDeleted".into())));
    }
}
