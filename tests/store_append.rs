//! Appending: optimistic concurrency, idempotency, versions and times.

mod common;

use common::{by_tester, development, join_all, opened_story, store_with};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::{StoryId, Version};
use storyline::store::{NewEvent, Store, StoreError};

#[sqlx::test]
async fn sixteen_writers_expecting_one_version_yield_one_winner_and_fifteen_conflicts(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 20).await;
    let story = opened_story(&store).await;
    for round in 0..5 {
        let expected = Version(1 + round);
        let attempts = (0..16).map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let event = development(&format!("round {round} writer {i}"));
                store
                    .append(story, Some(expected), &[event], &by_tester())
                    .await
            })
        });
        let results = join_all(attempts).await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: exactly one writer wins");
        for result in results.iter().filter(|r| r.is_err()) {
            match result {
                Err(StoreError::VersionConflict {
                    expected: e,
                    actual,
                }) => {
                    assert_eq!(*e, expected);
                    assert_eq!(
                        *actual,
                        expected.next(),
                        "conflict reports the actual version"
                    );
                }
                other => panic!("round {round}: expected a version conflict, got {other:?}"),
            }
        }
    }
    let versions: Vec<i32> = store
        .read_stream(story, Version(1), None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.version.0)
        .collect();
    assert_eq!(
        versions,
        (1..=6).collect::<Vec<_>>(),
        "versions are gap-free"
    );
}

#[sqlx::test]
async fn appends_without_expected_version_from_many_writers_all_land_gap_free(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 20).await;
    let story = opened_story(&store).await;
    let writers = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..10 {
                let event = development(&format!("writer {i} event {n}"));
                store.append(story, None, &[event], &by_tester()).await?;
            }
            Ok::<(), StoreError>(())
        })
    });
    for result in join_all(writers).await {
        result.expect("every append lands");
    }
    let events = store.read_stream(story, Version(1), None).await.unwrap();
    let versions: Vec<i32> = events.iter().map(|e| e.version.0).collect();
    assert_eq!(versions, (1..=161).collect::<Vec<_>>());
    assert!(
        events.windows(2).all(|w| w[0].position < w[1].position),
        "within a story, positions follow versions"
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0].recorded_at <= w[1].recorded_at),
        "recorded_at never decreases in version order"
    );
}

#[sqlx::test]
async fn identical_retry_returns_the_stored_events_marked_deduplicated(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let event = development("Taliban warn Turkey");
    let first = store
        .append(
            story,
            Some(Version(1)),
            std::slice::from_ref(&event),
            &by_tester(),
        )
        .await
        .unwrap();
    assert!(!first.deduplicated);

    // The retry still carries its original, now stale, expected version.
    let retry = store
        .append(
            story,
            Some(Version(1)),
            std::slice::from_ref(&event),
            &by_tester(),
        )
        .await
        .unwrap();
    assert!(retry.deduplicated);
    assert_eq!(retry.events, first.events);
    assert_eq!(
        store.current_version(story).await.unwrap(),
        Version(2),
        "nothing appended twice"
    );
}

#[sqlx::test]
async fn concurrent_identical_retries_append_once(pool: PgPoolOptions, connect: PgConnectOptions) {
    let store = store_with(pool, connect, 12).await;
    let story = opened_story(&store).await;
    let event = development("Bomb in Kabul");
    let retries = (0..8).map(|_| {
        let (store, event) = (store.clone(), event.clone());
        tokio::spawn(async move { store.append(story, None, &[event], &by_tester()).await })
    });
    let outcomes: Vec<_> = join_all(retries)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| !o.deduplicated).count(), 1);
    assert!(outcomes.windows(2).all(|w| w[0].events == w[1].events));
    assert_eq!(store.current_version(story).await.unwrap(), Version(2));
}

#[sqlx::test]
async fn reusing_an_event_id_for_other_content_is_refused_and_writes_nothing(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let event = development("Original headline");
    store
        .append(story, None, std::slice::from_ref(&event), &by_tester())
        .await
        .unwrap();

    let other_payload = NewEvent {
        payload: serde_json::json!({"headline": "Changed"}),
        ..event.clone()
    };
    let refused = store
        .append(story, None, &[other_payload], &by_tester())
        .await;
    assert!(matches!(refused, Err(StoreError::EventIdReused(id)) if id == event.id));

    let other_story = opened_story(&store).await;
    let refused = store
        .append(
            other_story,
            None,
            std::slice::from_ref(&event),
            &by_tester(),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::EventIdReused(id)) if id == event.id));

    // A batch mixing a used id with new ones is not a retry either.
    let mixed = [event.clone(), development("new")];
    let refused = store.append(story, None, &mixed, &by_tester()).await;
    assert!(matches!(refused, Err(StoreError::EventIdReused(_))));

    assert_eq!(store.current_version(story).await.unwrap(), Version(2));
    assert_eq!(
        store.current_version(other_story).await.unwrap(),
        Version(1)
    );
}

#[sqlx::test]
async fn a_batch_gets_consecutive_versions_and_one_recorded_time(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let batch: Vec<NewEvent> = (0..100)
        .map(|i| development(&format!("event {i}")))
        .collect();
    let outcome = store
        .append(story, Some(Version(1)), &batch, &by_tester())
        .await
        .unwrap();
    let versions: Vec<i32> = outcome.events.iter().map(|e| e.version.0).collect();
    assert_eq!(versions, (2..=101).collect::<Vec<_>>());
    assert!(outcome
        .events
        .windows(2)
        .all(|w| w[0].position < w[1].position));
    assert!(outcome
        .events
        .iter()
        .all(|e| e.recorded_at == outcome.events[0].recorded_at));
    assert!(outcome
        .events
        .iter()
        .zip(&batch)
        .all(|(stored, sent)| stored.id == sent.id));
}

#[sqlx::test]
async fn story_level_events_occur_when_they_are_recorded(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = StoryId::generate();
    let outcome = store
        .append(
            story,
            Some(Version(0)),
            &[common::opening("s")],
            &by_tester(),
        )
        .await
        .unwrap();
    let opened = &outcome.events[0];
    assert_eq!(opened.occurred_at, opened.recorded_at);
    assert_eq!(opened.version, Version(1));
    assert_eq!(opened.metadata["principal"], "tester");
}

#[sqlx::test]
async fn malformed_batches_are_refused_before_touching_the_database(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let empty = store.append(story, None, &[], &by_tester()).await;
    assert!(matches!(empty, Err(StoreError::EmptyAppend)));

    let event = development("twice");
    let repeated = store
        .append(story, None, &[event.clone(), event.clone()], &by_tester())
        .await;
    assert!(matches!(repeated, Err(StoreError::EventIdRepeated(id)) if id == event.id));
    assert_eq!(store.current_version(story).await.unwrap(), Version(1));
}

#[sqlx::test]
async fn read_stream_returns_the_requested_version_range(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let batch: Vec<NewEvent> = (0..9).map(|i| development(&format!("event {i}"))).collect();
    store
        .append(story, None, &batch, &by_tester())
        .await
        .unwrap();
    let middle = store
        .read_stream(story, Version(3), Some(Version(5)))
        .await
        .unwrap();
    let versions: Vec<i32> = middle.iter().map(|e| e.version.0).collect();
    assert_eq!(versions, vec![3, 4, 5]);
    assert!(store
        .read_stream(StoryId::generate(), Version(1), None)
        .await
        .unwrap()
        .is_empty());
}

/// Reports one development to each story at once; the outcome of each.
async fn report_to_each_at_once(
    store: &Store,
    appends: Vec<(StoryId, NewEvent)>,
) -> Vec<Result<storyline::store::AppendOutcome, StoreError>> {
    let tasks = appends.into_iter().map(|(story, event)| {
        let store = store.clone();
        tokio::spawn(async move { store.append(story, None, &[event], &by_tester()).await })
    });
    join_all(tasks).await
}

#[sqlx::test]
async fn concurrent_reports_to_many_stories_all_land_and_share_transactions(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 8).await;
    let mut stories = Vec::new();
    for _ in 0..32 {
        stories.push(opened_story(&store).await);
    }
    let appends = stories
        .iter()
        .map(|&story| (story, development("at once")))
        .collect();
    let results = report_to_each_at_once(&store, appends).await;
    let mut transactions = std::collections::HashSet::new();
    for result in results {
        let outcome = result.expect("every append lands");
        let event = &outcome.events[0];
        assert_eq!(event.version, Version(2));
        // A position's high bits are its transaction's id.
        transactions.insert(event.position.0 >> 16);
    }
    for story in stories {
        assert_eq!(store.current_version(story).await.unwrap(), Version(2));
    }
    assert!(
        transactions.len() < 32,
        "32 appends handed in at once commit in fewer transactions, got {}",
        transactions.len()
    );
}

#[sqlx::test]
async fn an_append_that_breaks_a_rule_fails_alone_and_the_others_beside_it_land(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 8).await;
    let mut appends = Vec::new();
    let mut reused = Vec::new();
    for i in 0..16 {
        let story = opened_story(&store).await;
        let mut event = development("fresh");
        if i % 4 == 0 {
            // Report the same development id again: a rule of the fold.
            let first = development("first");
            store
                .append(story, None, std::slice::from_ref(&first), &by_tester())
                .await
                .unwrap();
            event.payload["developmentId"] = first.payload["developmentId"].clone();
            reused.push(story);
        }
        appends.push((story, event));
    }
    let stories: Vec<StoryId> = appends.iter().map(|(story, _)| *story).collect();
    let results = report_to_each_at_once(&store, appends).await;
    for (story, result) in stories.into_iter().zip(results) {
        if reused.contains(&story) {
            assert!(
                matches!(result, Err(StoreError::Rule(_))),
                "a reused development id is refused: {result:?}"
            );
        } else {
            assert!(result.is_ok(), "its neighbours land: {result:?}");
        }
        // Either its first report (refused) or its new one (landed).
        assert_eq!(store.current_version(story).await.unwrap(), Version(2));
    }
}
