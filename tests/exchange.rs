//! Import, export and the demo story against a real database.

mod common;

use common::by_tester;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::replay::state_at;
use storyline::domain::view::StoryState;
use storyline::domain::{StoryId, Version};
use storyline::exchange::{self, ExchangeError, KABUL_FIXTURE};
use storyline::store::{ConnectOptions, Store, StoreError};

const SLUG: &str = "kabul-airport-2021";

async fn current_state(store: &Store, slug: &str) -> StoryState {
    let story = store
        .find_story_by_slug(slug)
        .await
        .unwrap()
        .expect("story exists");
    let events: Vec<_> = store.read_story(story).await.unwrap();
    state_at(story, &events, None, None).unwrap()
}

async fn export_all(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    exchange::export(store, None, &mut out).await.unwrap();
    out
}

#[sqlx::test]
async fn import_export_import_into_a_fresh_database_gives_an_identical_state(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let store = Store::from_pool(admin.clone());
    exchange::load_demo(&store).await.unwrap();
    let exported = export_all(&store).await;
    assert_eq!(exported.iter().filter(|&&b| b == b'\n').count(), 14);

    let fresh_name = format!("storyline_fresh_{}", uuid::Uuid::now_v7().simple());
    let fresh_url = format!(
        "postgres://{}@{}:{}/{}",
        connect.get_username(),
        connect.get_host(),
        connect.get_port(),
        fresh_name
    );
    let fresh = Store::connect(&ConnectOptions {
        database_url: fresh_url,
        max_connections: 2,
        ..ConnectOptions::default()
    })
    .await
    .unwrap();
    let report = exchange::import(&fresh, exported.as_slice()).await.unwrap();
    assert_eq!(report.appended, 14);

    let mut original = current_state(&store, SLUG).await;
    let mut copy = current_state(&fresh, SLUG).await;
    // A fresh database gives the story a fresh id and records its events
    // anew; everything else matches.
    for state in [&mut original, &mut copy] {
        state.story_id = StoryId(uuid::Uuid::nil());
        for development in &mut state.developments {
            development.reported_at = chrono::DateTime::UNIX_EPOCH;
            for verdict in &mut development.verification_history {
                verdict.recorded_at = chrono::DateTime::UNIX_EPOCH;
            }
        }
    }
    let exported_again = export_all(&fresh).await;
    fresh.close().await;
    sqlx::query(&format!("DROP DATABASE {fresh_name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(copy, original);

    let ids = |ndjson: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(ndjson)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
            .collect()
    };
    assert_eq!(
        ids(&exported_again),
        ids(&exported),
        "import keeps event ids and order"
    );
}

#[sqlx::test]
async fn importing_twice_adds_nothing(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let first = exchange::import(&store, KABUL_FIXTURE.as_bytes())
        .await
        .unwrap();
    assert_eq!((first.appended, first.already_present), (14, 0));
    let second = exchange::load_demo(&store).await.unwrap();
    assert_eq!((second.appended, second.already_present), (0, 14));
    let story = store.find_story_by_slug(SLUG).await.unwrap().unwrap();
    assert_eq!(store.current_version(story).await.unwrap(), Version(14));
}

#[sqlx::test]
async fn a_malformed_line_is_reported_by_number_and_its_batch_is_not_written(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let mut input: Vec<&str> = KABUL_FIXTURE.lines().take(3).collect();
    input.push("{\"story\": \"kabul-airport-2021\", \"type\": ");
    let result = exchange::import(&store, input.join("\n").as_bytes()).await;
    match result {
        Err(ExchangeError::BadLine { line, .. }) => assert_eq!(line, 4),
        other => panic!("expected a bad line 4, got {other:?}"),
    }
    assert!(
        store.find_story_by_slug(SLUG).await.unwrap().is_none(),
        "nothing of the batch written"
    );
}

#[sqlx::test]
async fn an_impossible_sequence_is_reported_at_its_line(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let orphan_correction = r#"{"story": "other-story", "type": "DevelopmentRetracted", "id": "0190e7a0-0000-7000-8000-000000000001", "data": {"developmentId": "0190e7a0-0000-7000-8000-000000000002", "reason": "no"}}"#;
    let input = format!("{}\n{orphan_correction}\n", KABUL_FIXTURE.trim_end());
    let result = exchange::import(&store, input.as_bytes()).await;
    match result {
        Err(ExchangeError::BadLine { line, message }) => {
            assert_eq!(line, 15);
            assert!(message.contains("StoryOpened"), "{message}");
        }
        other => panic!("expected a bad line 15, got {other:?}"),
    }
    assert!(
        store.find_story_by_slug(SLUG).await.unwrap().is_some(),
        "earlier stories stay"
    );
}

#[sqlx::test]
async fn a_slug_belongs_to_one_story(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let opening = common::opening("shared-slug");
    let first = StoryId::generate();
    store
        .append(first, None, std::slice::from_ref(&opening), &by_tester())
        .await
        .unwrap();
    let retry = store
        .append(first, None, std::slice::from_ref(&opening), &by_tester())
        .await
        .unwrap();
    assert!(retry.deduplicated, "an identical retry is not a clash");

    let other = common::opening("shared-slug");
    let clash = store
        .append(StoryId::generate(), None, &[other], &by_tester())
        .await;
    assert!(matches!(clash, Err(StoreError::SlugTaken(slug)) if slug == "shared-slug"));
    assert_eq!(
        store.find_story_by_slug("shared-slug").await.unwrap(),
        Some(first)
    );
}

/// Verdicts, claimed ranges, source kinds and visibility changes, as an
/// import file would carry them.
const EVIDENCE_LINES: &str = r#"{"story": "ridge-fire", "type": "StoryOpened", "id": "0192f0c4-0000-7000-8000-00000000e001", "data": {"title": "Ridge fire", "visibility": "INTERNAL", "embargoUntil": "2030-01-01T00:00:00Z"}}
{"story": "ridge-fire", "type": "DevelopmentReported", "id": "0192f0c4-0000-7000-8000-00000000e002", "data": {"developmentId": "0192f0c4-0000-7000-8000-00000000d001", "headline": "Toll rises", "occurredAt": "2024-03-01T00:00:00Z", "verification": "CORROBORATED", "sources": [{"name": "County", "kind": "OFFICIAL"}], "figures": [{"metric": "killed", "value": 5.5, "qualifier": "ABOUT", "low": 3.5, "high": 7.5, "claimedBy": "County hospital"}]}}
{"story": "ridge-fire", "type": "DevelopmentVerificationChanged", "id": "0192f0c4-0000-7000-8000-00000000e003", "data": {"developmentId": "0192f0c4-0000-7000-8000-00000000d001", "status": "FALSE", "note": "double-counted"}}
{"story": "ridge-fire", "type": "StoryVisibilityChanged", "id": "0192f0c4-0000-7000-8000-00000000e004", "data": {"visibility": "PUBLIC"}}
"#;

#[sqlx::test]
async fn verdicts_claims_and_visibility_changes_round_trip_through_export(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let imported = exchange::import(&store, EVIDENCE_LINES.as_bytes())
        .await
        .unwrap();
    assert_eq!(imported.appended, 4);
    let mut exported = Vec::new();
    exchange::export(&store, Some("ridge-fire"), &mut exported)
        .await
        .unwrap();
    let read = |text: &[u8]| -> Vec<(String, serde_json::Value)> {
        String::from_utf8_lossy(text)
            .lines()
            .map(|line| {
                let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
                let data = value["data"].take();
                (value["type"].as_str().unwrap().to_owned(), data)
            })
            .collect()
    };
    let (sent, back) = (read(EVIDENCE_LINES.as_bytes()), read(&exported));
    assert_eq!(back.len(), 4);
    for ((sent_type, sent_data), (back_type, back_data)) in sent.iter().zip(&back) {
        assert_eq!(sent_type, back_type);
        // Every field sent comes back as sent (export adds schemaVersion,
        // and StoryOpened's slug, which the line's story gave).
        for (field, value) in sent_data.as_object().unwrap() {
            let back_value = &back_data[field];
            assert_eq!(back_value, value, "{back_type}.{field}");
        }
    }
    // The export reads back as the very events stored.
    let again = exchange::import(&store, exported.as_slice()).await.unwrap();
    assert_eq!((again.appended, again.already_present), (0, 4));
    let state = current_state(&store, "ridge-fire").await;
    let d = &state.developments[0];
    assert_eq!(
        d.verification,
        storyline::domain::model::VerificationStatus::False
    );
    assert_eq!(d.verification_history.len(), 2);
    assert!(
        state.figure_claims.is_empty(),
        "a FALSE claim leaves the claims"
    );
}

/// A database of its own beside the test's, dropped by [`drop_fresh`].
async fn fresh_database(connect: &PgConnectOptions) -> (Store, String) {
    let name = format!("storyline_fresh_{}", uuid::Uuid::now_v7().simple());
    let store = Store::connect(&ConnectOptions {
        database_url: common::database_url(connect, &name),
        max_connections: 2,
        ..ConnectOptions::default()
    })
    .await
    .unwrap();
    (store, name)
}

async fn drop_fresh(admin: &sqlx::PgPool, store: Store, name: &str) {
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(admin)
        .await
        .unwrap();
}

/// Export lines without their positions, which only say commit order.
fn without_positions(ndjson: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(ndjson)
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(fields) = value.as_object_mut() {
                fields.remove("position");
            }
            value
        })
        .collect()
}

#[sqlx::test]
async fn an_export_imported_keeping_recorded_at_is_exact_in_every_field(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let store = Store::from_pool(admin.clone());
    exchange::load_demo(&store).await.unwrap();
    let story = store.find_story_by_slug(SLUG).await.unwrap().unwrap();
    // One event recorded now, by someone, beside the demo's kept times.
    store
        .append(story, None, &[common::development("Later")], &by_tester())
        .await
        .unwrap();
    let exported = export_all(&store).await;

    let (fresh, name) = fresh_database(&connect).await;
    let input = std::io::Cursor::new(exported.clone());
    let report = exchange::import_keeping_recorded_at(&fresh, input)
        .await
        .unwrap();
    assert_eq!(report.appended, 15);
    let exported_again = export_all(&fresh).await;
    let mut original = current_state(&store, SLUG).await;
    let mut copy = current_state(&fresh, SLUG).await;
    drop_fresh(&admin, fresh, &name).await;

    assert_eq!(
        without_positions(&exported_again),
        without_positions(&exported),
        "every field but the position survives, recordedAt and metadata included"
    );
    original.story_id = StoryId(uuid::Uuid::nil());
    copy.story_id = StoryId(uuid::Uuid::nil());
    assert_eq!(copy, original, "reportedAt and verdict times too");
}

/// The demo fixture's lines, `edit` applied to the recordedAt of line `n`
/// (1-based).
fn fixture_with_recorded_at(n: usize, recorded_at: &str) -> Vec<u8> {
    let lines: Vec<String> = KABUL_FIXTURE
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if i + 1 == n {
                value["recordedAt"] = serde_json::json!(recorded_at);
            }
            value.to_string()
        })
        .collect();
    (lines.join("\n") + "\n").into_bytes()
}

async fn events_stored(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn kept_times_out_of_order_in_the_future_or_missing_are_refused_and_nothing_is_written(
    pool: sqlx::PgPool,
) {
    let store = Store::from_pool(pool.clone());
    let cases = [
        (
            fixture_with_recorded_at(9, "2021-07-09T00:00:00Z"),
            9,
            "before the previous",
        ),
        (
            fixture_with_recorded_at(14, "2999-01-01T00:00:00Z"),
            14,
            "in the future",
        ),
    ];
    for (input, line, why) in cases {
        let refused = exchange::import_keeping_recorded_at(&store, std::io::Cursor::new(input))
            .await
            .expect_err(why);
        match refused {
            ExchangeError::BadLine { line: at, message } => {
                assert_eq!(at, line as u64, "{message}");
                assert!(message.contains(why), "{message}");
            }
            other => panic!("{other}"),
        }
        assert_eq!(events_stored(&pool).await, 0, "nothing written ({why})");
    }
    let without: String = KABUL_FIXTURE
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(fields) = value.as_object_mut() {
                fields.remove("recordedAt");
            }
            value.to_string() + "\n"
        })
        .collect();
    let refused =
        exchange::import_keeping_recorded_at(&store, std::io::Cursor::new(without.into_bytes()))
            .await;
    assert!(
        matches!(refused, Err(ExchangeError::BadLine { line: 1, .. })),
        "{refused:?}"
    );
    assert_eq!(events_stored(&pool).await, 0);
}

#[sqlx::test]
async fn kept_times_before_what_a_story_holds_are_refused(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    exchange::load_demo(&store).await.unwrap();
    let early = serde_json::json!({
        "story": SLUG, "type": "DevelopmentReported", "id": uuid::Uuid::now_v7(),
        "recordedAt": "2021-07-10T00:00:00Z",
        "data": {"developmentId": uuid::Uuid::now_v7(), "headline": "Too early",
                 "occurredAt": "2021-07-10T00:00:00Z"}
    });
    let input = std::io::Cursor::new(format!("{early}\n").into_bytes());
    let refused = exchange::import_keeping_recorded_at(&store, input).await;
    assert!(
        matches!(&refused, Err(ExchangeError::BadLine { line: 1, message }) if message.contains("holds")),
        "{refused:?}"
    );
    assert_eq!(events_stored(&pool).await, 14);
    // The demo again, its events all stored: nothing to refuse or add.
    let again = exchange::load_demo(&store).await.unwrap();
    assert_eq!((again.appended, again.already_present), (0, 14));
}

#[sqlx::test]
async fn the_demo_as_known_on_12_july_is_not_the_story_of_today(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    exchange::load_demo(&store).await.unwrap();
    let story = store.find_story_by_slug(SLUG).await.unwrap().unwrap();
    let known_then = "2021-07-12T12:00:00Z".parse().unwrap();
    let then = store
        .state_at(story, None, Some(known_then))
        .await
        .unwrap()
        .expect("the story was open by then");
    let now = current_state(&store, SLUG).await;
    assert_eq!(then.developments.len(), 5, "the five reported on 9 July");
    assert!(now.developments.len() > then.developments.len());
    assert_eq!(then.known_at, Some(known_then));
}

#[sqlx::test]
async fn an_export_beside_eight_writers_holds_every_event_committed_before_it(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let stories: Vec<StoryId> = futures_util::future::join_all((0..8).map(|_| {
        let store = store.clone();
        async move { common::opened_story(&store).await }
    }))
    .await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = stories
        .iter()
        .map(|&story| {
            let (store, stop) = (store.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let event = common::development(&format!("Appended {n}"));
                    store
                        .append(story, None, &[event], &by_tester())
                        .await
                        .unwrap();
                    n += 1;
                }
            })
        })
        .collect();
    for _ in 0..20 {
        let committed: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM events")
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut out = Vec::new();
        exchange::export(&store, None, &mut out)
            .await
            .expect("an export beside writers succeeds");
        let exported: std::collections::HashSet<String> = String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
            .collect();
        let missing = committed
            .iter()
            .filter(|id| !exported.contains(&format!("\"{id}\"")))
            .count();
        assert_eq!(
            missing, 0,
            "events committed before the export began are in it"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    common::join_all(writers).await;
}
