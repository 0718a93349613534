//! The seven events of a story, their payloads, and how they travel as
//! (type, schema version, JSON payload).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::model::{
    ActorRef, FigureInput, Location, QuoteInput, Source, StanceInput, StoryStatus, StoryVisibility,
    TimePrecision, VerificationStatus,
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
    /// PUBLIC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<StoryVisibility>,
    /// The story stays INTERNAL until then, whatever `visibility` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo_until: Option<DateTime<Utc>>,
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
    /// The desk's verdict given with the report; UNVERIFIED when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationStatus>,
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
            verification: None,
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

/// A verdict on a development; the same status again records a new note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevelopmentVerificationChanged {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub development_id: Uuid,
    pub status: VerificationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Who may read the story from now on. Without `embargoUntil` there is no
/// embargo (an earlier one is lifted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoryVisibilityChanged {
    #[serde(default = "current_schema_version")]
    pub schema_version: i32,
    pub visibility: StoryVisibility,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo_until: Option<DateTime<Utc>>,
}

/// One event of a story's stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StoryEvent {
    StoryOpened(StoryOpened),
    DevelopmentReported(DevelopmentReported),
    DevelopmentCorrected(DevelopmentCorrected),
    DevelopmentRetracted(DevelopmentRetracted),
    StoryStatusChanged(StoryStatusChanged),
    DevelopmentVerificationChanged(DevelopmentVerificationChanged),
    StoryVisibilityChanged(StoryVisibilityChanged),
}

/// The kinds of event, stored by name (`as_str`) and shown as the
/// contract's `Event.type`. Code that treats types differently matches on
/// this enum without a wildcard, so a new type makes the compiler list every
/// place that must learn it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    StoryOpened,
    DevelopmentReported,
    DevelopmentCorrected,
    DevelopmentRetracted,
    StoryStatusChanged,
    DevelopmentVerificationChanged,
    StoryVisibilityChanged,
}

impl EventType {
    /// Every type, in the order the contract lists them.
    pub const ALL: [EventType; 7] = [
        EventType::StoryOpened,
        EventType::DevelopmentReported,
        EventType::DevelopmentCorrected,
        EventType::DevelopmentRetracted,
        EventType::StoryStatusChanged,
        EventType::DevelopmentVerificationChanged,
        EventType::StoryVisibilityChanged,
    ];

    /// The name stored in `events.type` and shown by the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::StoryOpened => "StoryOpened",
            EventType::DevelopmentReported => "DevelopmentReported",
            EventType::DevelopmentCorrected => "DevelopmentCorrected",
            EventType::DevelopmentRetracted => "DevelopmentRetracted",
            EventType::StoryStatusChanged => "StoryStatusChanged",
            EventType::DevelopmentVerificationChanged => "DevelopmentVerificationChanged",
            EventType::StoryVisibilityChanged => "StoryVisibilityChanged",
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = DecodeError;

    fn from_str(name: &str) -> Result<EventType, DecodeError> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| DecodeError::UnknownType(name.to_owned()))
    }
}

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
    EventType::ALL
        .into_iter()
        .map(|event_type| {
            let name = event_type.as_str();
            let payload = match event_type {
                EventType::StoryOpened => schema::<StoryOpened>(name),
                EventType::DevelopmentReported => schema::<DevelopmentReported>(name),
                EventType::DevelopmentCorrected => schema::<DevelopmentCorrected>(name),
                EventType::DevelopmentRetracted => schema::<DevelopmentRetracted>(name),
                EventType::StoryStatusChanged => schema::<StoryStatusChanged>(name),
                EventType::DevelopmentVerificationChanged => {
                    schema::<DevelopmentVerificationChanged>(name)
                }
                EventType::StoryVisibilityChanged => schema::<StoryVisibilityChanged>(name),
            };
            (name, payload)
        })
        .collect()
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
    pub fn event_type(&self) -> EventType {
        match self {
            StoryEvent::StoryOpened(_) => EventType::StoryOpened,
            StoryEvent::DevelopmentReported(_) => EventType::DevelopmentReported,
            StoryEvent::DevelopmentCorrected(_) => EventType::DevelopmentCorrected,
            StoryEvent::DevelopmentRetracted(_) => EventType::DevelopmentRetracted,
            StoryEvent::StoryStatusChanged(_) => EventType::StoryStatusChanged,
            StoryEvent::DevelopmentVerificationChanged(_) => {
                EventType::DevelopmentVerificationChanged
            }
            StoryEvent::StoryVisibilityChanged(_) => EventType::StoryVisibilityChanged,
        }
    }

    /// The development an event is about, if any.
    pub fn development_id(&self) -> Option<Uuid> {
        match self {
            StoryEvent::DevelopmentReported(e) => Some(e.development_id),
            StoryEvent::DevelopmentCorrected(e) => Some(e.development_id),
            StoryEvent::DevelopmentRetracted(e) => Some(e.development_id),
            StoryEvent::DevelopmentVerificationChanged(e) => Some(e.development_id),
            StoryEvent::StoryOpened(_)
            | StoryEvent::StoryStatusChanged(_)
            | StoryEvent::StoryVisibilityChanged(_) => None,
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
            StoryEvent::DevelopmentVerificationChanged(e) => serde_json::to_value(e),
            StoryEvent::StoryVisibilityChanged(e) => serde_json::to_value(e),
        };
        // Plain structs of strings, numbers and lists always encode.
        encoded.unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored or imported payload, upcasting older schema versions.
    pub fn from_payload(
        event_type: EventType,
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
        event_type: EventType,
        schema_version: i32,
        payload: &str,
    ) -> Result<StoryEvent, DecodeError> {
        if schema_version != SCHEMA_VERSION {
            let value = serde_json::from_str(payload).map_err(|e| DecodeError::Payload {
                event_type: event_type.as_str().to_owned(),
                message: e.to_string(),
            })?;
            return StoryEvent::from_payload(event_type, schema_version, value);
        }
        decode_as(event_type, &mut serde_json::Deserializer::from_str(payload))
    }
}

/// The event of `event_type` that `payload` deserializes to.
fn decode_as<'de, D>(event_type: EventType, payload: D) -> Result<StoryEvent, DecodeError>
where
    D: serde::Deserializer<'de>,
{
    let invalid = |e: D::Error| DecodeError::Payload {
        event_type: event_type.as_str().to_owned(),
        message: e.to_string(),
    };
    Ok(match event_type {
        EventType::StoryOpened => {
            StoryEvent::StoryOpened(StoryOpened::deserialize(payload).map_err(invalid)?)
        }
        EventType::DevelopmentReported => StoryEvent::DevelopmentReported(
            DevelopmentReported::deserialize(payload).map_err(invalid)?,
        ),
        EventType::DevelopmentCorrected => StoryEvent::DevelopmentCorrected(
            DevelopmentCorrected::deserialize(payload).map_err(invalid)?,
        ),
        EventType::DevelopmentRetracted => StoryEvent::DevelopmentRetracted(
            DevelopmentRetracted::deserialize(payload).map_err(invalid)?,
        ),
        EventType::StoryStatusChanged => StoryEvent::StoryStatusChanged(
            StoryStatusChanged::deserialize(payload).map_err(invalid)?,
        ),
        EventType::DevelopmentVerificationChanged => StoryEvent::DevelopmentVerificationChanged(
            DevelopmentVerificationChanged::deserialize(payload).map_err(invalid)?,
        ),
        EventType::StoryVisibilityChanged => StoryEvent::StoryVisibilityChanged(
            StoryVisibilityChanged::deserialize(payload).map_err(invalid)?,
        ),
    })
}

/// Brings a payload written under an older schema version up to
/// [`SCHEMA_VERSION`]. Each future version adds one step here (v1 → v2 →
/// …), so stored events are never rewritten.
pub fn upcast(
    event_type: EventType,
    schema_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, DecodeError> {
    if schema_version > SCHEMA_VERSION {
        return Err(DecodeError::FutureSchema {
            event_type: event_type.as_str().to_owned(),
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
        let event = StoryEvent::from_payload(EventType::DevelopmentReported, 1, payload).unwrap();
        let stored = event.to_payload();
        assert_eq!(stored["schemaVersion"], 1);
        assert_eq!(stored["precision"], "MONTH");
        assert_eq!(stored["figures"][0]["qualifier"], "AT_LEAST");
        assert_eq!(
            StoryEvent::from_payload(EventType::DevelopmentReported, 1, stored).unwrap(),
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
            StoryEvent::from_payload_text(EventType::DevelopmentReported, 1, &text),
            StoryEvent::from_payload(EventType::DevelopmentReported, 1, payload)
        );
        assert!(StoryEvent::from_payload_text(
            EventType::StoryStatusChanged,
            1,
            r#"{"status":"X"}"#
        )
        .is_err());
        assert!(matches!(
            StoryEvent::from_payload_text(
                EventType::StoryStatusChanged,
                2,
                r#"{"status":"ONGOING"}"#
            ),
            Err(DecodeError::FutureSchema { .. })
        ));
    }

    #[test]
    fn unknown_enum_values_and_fields_are_rejected() {
        let bad_enum = json!({"status": "FINISHED"});
        assert!(StoryEvent::from_payload(EventType::StoryStatusChanged, 1, bad_enum).is_err());
        let extra = json!({"status": "ONGOING", "colour": "red"});
        assert!(StoryEvent::from_payload(EventType::StoryStatusChanged, 1, extra).is_err());
    }

    #[test]
    fn dates_without_offset_are_rejected() {
        let payload = json!({"developmentId": "de74e538-5616-5a7e-b6ab-30180f0aa230",
            "headline": "x", "occurredAt": "2021-07-13T00:00:00"});
        assert!(StoryEvent::from_payload(EventType::DevelopmentReported, 1, payload).is_err());
    }

    #[test]
    fn payloads_from_a_newer_schema_are_refused_not_misread() {
        let result = StoryEvent::from_payload(
            EventType::StoryStatusChanged,
            2,
            json!({"status": "ONGOING"}),
        );
        assert!(matches!(
            result,
            Err(DecodeError::FutureSchema { version: 2, .. })
        ));
    }

    #[test]
    fn every_event_type_reads_back_from_its_name() {
        for event_type in EventType::ALL {
            assert_eq!(event_type.as_str().parse::<EventType>(), Ok(event_type));
        }
    }

    #[test]
    fn unknown_event_types_are_refused() {
        let result = "StoryDeleted".parse::<EventType>();
        assert_eq!(result, Err(DecodeError::UnknownType("StoryDeleted".into())));
    }
}
