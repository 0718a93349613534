//! schema/events/*.json are the JSON Schemas of the event payloads,
//! generated from the Rust types; these tests fail when they drift.

use std::path::Path;

use storyline::domain::events::{payload_schemas, EventType};

#[test]
fn every_event_type_has_a_checked_in_payload_schema_equal_to_the_generated_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/events");
    let generated = payload_schemas();
    assert_eq!(generated.len(), EventType::ALL.len());
    for (event_type, schema) in generated {
        let path = dir.join(format!("{event_type}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing", path.display()));
        let checked_in: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert!(
            checked_in == schema,
            "{} is stale; refresh with `cargo run -- schema --events schema/events`",
            path.display()
        );
    }
}

#[test]
fn payload_schemas_name_the_contract_fields_and_refuse_unknown_ones() {
    let schemas = payload_schemas();
    let reported = &schemas
        .iter()
        .find(|(t, _)| *t == "DevelopmentReported")
        .expect("DevelopmentReported")
        .1;
    let required: Vec<&str> = reported["required"]
        .as_array()
        .expect("required fields")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(required, ["developmentId", "headline", "occurredAt"]);
    assert_eq!(reported["additionalProperties"], false);
    assert_eq!(reported["properties"]["occurredAt"]["format"], "date-time");
    assert_eq!(reported["title"], "DevelopmentReported");
}
