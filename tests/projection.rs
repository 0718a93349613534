//! The story snapshot projection, written by the append itself, always
//! equals a fresh fold of the story's events.

mod common;

use common::{by_tester, july_13, opened_story, reported};
use storyline::domain::events::*;
use storyline::domain::fold::{FoldError, StoryFold};
use storyline::domain::model::{ActorKind, ActorRef, StoryStatus};
use storyline::domain::replay::fold_known;
use storyline::domain::{StoryId, Version};
use storyline::store::{NewEvent, Store, StoreError};
use storyline::{exchange, projection};
use uuid::Uuid;

async fn fresh_fold(store: &Store, story: StoryId) -> StoryFold {
    let events: Vec<_> = store.read_story(story).await.unwrap();
    fold_known(story, &events, None).unwrap()
}

async fn append(store: &Store, story: StoryId, event: StoryEvent) -> Result<Version, StoreError> {
    let occurred = match &event {
        StoryEvent::DevelopmentReported(e) => Some(e.occurred_at),
        _ => None,
    };
    let outcome = store
        .append(
            story,
            None,
            &[NewEvent::from_event(&event, occurred)],
            &by_tester(),
        )
        .await?;
    Ok(outcome.events[0].version)
}

fn correction(id: Uuid, changes: DevelopmentPatch) -> StoryEvent {
    StoryEvent::DevelopmentCorrected(DevelopmentCorrected {
        schema_version: 1,
        development_id: id,
        changes,
        reason: "new information".into(),
    })
}

fn retraction(id: Uuid) -> StoryEvent {
    StoryEvent::DevelopmentRetracted(DevelopmentRetracted {
        schema_version: 1,
        development_id: id,
        reason: "unverified".into(),
    })
}

#[sqlx::test]
async fn the_snapshot_equals_a_fresh_fold_after_every_kind_of_event(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let mut late = reported("late");
    late.actors = vec![ActorRef {
        name: "Taliban".into(),
        kind: ActorKind::Group,
        role: None,
    }];
    let mut early = reported("early");
    early.occurred_at = july_13() - chrono::Duration::days(30);
    let doomed = reported("doomed");
    let (late_id, doomed_id) = (late.development_id, doomed.development_id);
    for event in [late, early, doomed] {
        append(&store, story, StoryEvent::DevelopmentReported(event))
            .await
            .unwrap();
        assert_eq!(
            store.load_snapshot(story).await.unwrap().unwrap(),
            fresh_fold(&store, story).await
        );
    }
    let moved = DevelopmentPatch {
        occurred_at: Some(july_13() - chrono::Duration::days(60)),
        actors: Some(vec![]),
        summary: Some("corrected".into()),
        ..Default::default()
    };
    append(&store, story, correction(late_id, moved))
        .await
        .unwrap();
    append(&store, story, retraction(doomed_id)).await.unwrap();
    let status = StoryEvent::StoryStatusChanged(StoryStatusChanged {
        schema_version: 1,
        status: StoryStatus::Concluded,
        reason: None,
    });
    append(&store, story, status).await.unwrap();

    let snapshot = store.load_snapshot(story).await.unwrap().unwrap();
    assert_eq!(snapshot, fresh_fold(&store, story).await);
    assert_eq!(snapshot.version, Version(7));
    assert_eq!(snapshot.status, StoryStatus::Concluded);
    assert_eq!(
        snapshot.developments[&late_id].corrected_in_versions,
        vec![Version(5)]
    );
    assert!(snapshot.developments[&late_id].actors.is_empty());
    assert_eq!(snapshot.retracted.len(), 1);
}

#[sqlx::test]
async fn an_imported_story_has_a_snapshot_equal_to_its_fold(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    exchange::load_demo(&store).await.unwrap();
    let story = store
        .find_story_by_slug("kabul-airport-2021")
        .await
        .unwrap()
        .unwrap();
    let snapshot = store.load_snapshot(story).await.unwrap().unwrap();
    assert_eq!(snapshot, fresh_fold(&store, story).await);
    assert_eq!(snapshot.developments.len(), 11);
}

#[sqlx::test]
async fn the_append_itself_refuses_events_that_break_the_fold_rules(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let never_opened = StoryId::generate();
    let refused = append(
        &store,
        never_opened,
        StoryEvent::DevelopmentReported(reported("x")),
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Rule(FoldError::NotOpened))),
        "{refused:?}"
    );

    let story = opened_story(&store).await;
    let development = reported("once");
    let id = development.development_id;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(development.clone()),
    )
    .await
    .unwrap();
    let twice = append(&store, story, StoryEvent::DevelopmentReported(development)).await;
    assert!(matches!(twice, Err(StoreError::Rule(FoldError::DuplicateDevelopment(d))) if d == id));

    let unknown = Uuid::now_v7();
    let patch = DevelopmentPatch {
        headline: Some("h".into()),
        ..Default::default()
    };
    let orphan = append(&store, story, correction(unknown, patch.clone())).await;
    assert!(
        matches!(orphan, Err(StoreError::Rule(FoldError::UnknownDevelopment(d))) if d == unknown)
    );

    append(&store, story, retraction(id)).await.unwrap();
    let again = append(&store, story, retraction(id)).await;
    assert!(matches!(again, Err(StoreError::Rule(FoldError::DevelopmentRetracted(d))) if d == id));
    let late_fix = append(&store, story, correction(id, patch)).await;
    assert!(matches!(
        late_fix,
        Err(StoreError::Rule(FoldError::DevelopmentRetracted(_)))
    ));

    let reopen = StoryEvent::StoryOpened(StoryOpened {
        schema_version: 1,
        slug: "another-slug".into(),
        title: "t".into(),
        summary: None,
        topics: vec![],
        visibility: None,
        embargo_until: None,
    });
    let reopened = append(&store, story, reopen).await;
    assert!(matches!(
        reopened,
        Err(StoreError::Rule(FoldError::AlreadyOpened))
    ));

    assert_eq!(
        store.current_version(story).await.unwrap(),
        Version(3),
        "nothing refused was written"
    );
    assert_eq!(
        store.load_snapshot(story).await.unwrap().unwrap(),
        fresh_fold(&store, story).await
    );
}

#[sqlx::test]
async fn a_batch_breaking_a_rule_midway_writes_nothing(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let good = StoryEvent::DevelopmentReported(reported("fine"));
    let bad = retraction(Uuid::now_v7());
    let batch = [
        NewEvent::from_event(&good, Some(july_13())),
        NewEvent::from_event(&bad, None),
    ];
    let refused = store
        .append(story, Some(Version(1)), &batch, &by_tester())
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Rule(FoldError::UnknownDevelopment(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(store.current_version(story).await.unwrap(), Version(1));
    assert!(store
        .load_snapshot(story)
        .await
        .unwrap()
        .unwrap()
        .developments
        .is_empty());
}

/// Where the story row's latest version lies: (page, item).
async fn story_row_place(pool: &sqlx::PgPool, story: StoryId) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (ctid::text::point)[0]::bigint, (ctid::text::point)[1]::bigint \
         FROM stories WHERE story_id = $1",
    )
    .bind(story.0)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn an_append_of_mixed_events_moves_its_story_row_once_to_its_last_event(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let story = opened_story(&store).await;
    let (page, item) = story_row_place(&pool, story).await;
    let (first, second) = (reported("first"), reported("second"));
    let (first_id, second_id) = (first.development_id, second.development_id);
    let summary = DevelopmentPatch {
        summary: Some("corrected".into()),
        ..Default::default()
    };
    let events = [
        StoryEvent::DevelopmentReported(first),
        correction(first_id, summary),
        StoryEvent::DevelopmentReported(second),
        retraction(second_id),
        StoryEvent::DevelopmentReported(reported("third")),
    ];
    let batch: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent::from_event(e, Some(july_13())))
        .collect();
    store
        .append(story, Some(Version(1)), &batch, &by_tester())
        .await
        .unwrap();
    // One new version of the row, beside the old on its page (an update
    // after each of the five runs would have left five).
    assert_eq!(
        story_row_place(&pool, story).await,
        (page, item + 1),
        "the append's transaction wrote one version of its story row"
    );
    let snapshot = store.load_snapshot(story).await.unwrap().unwrap();
    assert_eq!(snapshot, fresh_fold(&store, story).await);
    assert_eq!(snapshot.version, Version(6));
}

#[sqlx::test]
async fn verify_finds_no_difference_in_a_projection_kept_by_appends(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    exchange::load_demo(&store).await.unwrap();
    let story = opened_story(&store).await;
    let development = reported("to retract");
    let id = development.development_id;
    append(&store, story, StoryEvent::DevelopmentReported(development))
        .await
        .unwrap();
    append(&store, story, retraction(id)).await.unwrap();
    let differences = projection::verify(&store, |_| {}).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
}

#[sqlx::test]
async fn verify_reports_a_tampered_snapshot_and_rebuild_repairs_it(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    exchange::load_demo(&store).await.unwrap();
    let story = store
        .find_story_by_slug("kabul-airport-2021")
        .await
        .unwrap()
        .unwrap();
    let before = store.load_snapshot(story).await.unwrap().unwrap();
    sqlx::query(
        "UPDATE stories SET title = 'Tampered', status = 'DORMANT', \
         visibility = 'INTERNAL', embargo_until = '2030-01-01T00:00:00Z'",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM story_developments WHERE reported_in_version = 2")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE story_developments SET verifications = \
         '[{\"status\": \"FALSE\", \"note\": null, \"version\": 3, \"recordedAt\": \"2030-01-01T00:00:00Z\"}]' \
         WHERE reported_in_version = 3",
    )
    .execute(&pool)
    .await
    .unwrap();

    let differences = projection::verify(&store, |_| {}).await.unwrap();
    let details: Vec<&str> = differences.iter().map(|d| d.detail.as_str()).collect();
    assert_eq!(differences.len(), 6, "{details:#?}");
    assert!(details.iter().any(|d| d.starts_with("title")));
    assert!(details.iter().any(|d| d.starts_with("status")));
    assert!(details.iter().any(|d| d.starts_with("visibility")));
    assert!(details.iter().any(|d| d.starts_with("embargoUntil")));
    assert!(details
        .iter()
        .any(|d| d.contains("differs from its events")));
    assert!(details
        .iter()
        .any(|d| d.contains("missing from the snapshot")));

    let mut progress = Vec::new();
    let report = store
        .rebuild_snapshots(|events| progress.push(events))
        .await
        .unwrap();
    assert_eq!((report.stories, report.events), (1, 14));
    assert_eq!(progress.last(), Some(&14));
    assert!(projection::verify(&store, |_| {}).await.unwrap().is_empty());
    assert_eq!(store.load_snapshot(story).await.unwrap().unwrap(), before);
}

#[sqlx::test]
async fn appends_after_a_rebuild_keep_the_swapped_in_tables_in_step(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("before")),
    )
    .await
    .unwrap();
    store.rebuild_snapshots(|_| {}).await.unwrap();
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("after")),
    )
    .await
    .unwrap();
    let snapshot = store.load_snapshot(story).await.unwrap().unwrap();
    assert_eq!(snapshot.developments.len(), 2);
    assert_eq!(snapshot, fresh_fold(&store, story).await);
    let twice = store.find_story_by_slug(&story.to_string()).await.unwrap();
    assert_eq!(twice, Some(story));
    let clash = store
        .append(
            StoryId::generate(),
            None,
            &[common::opening(&story.to_string())],
            &by_tester(),
        )
        .await;
    assert!(
        matches!(clash, Err(StoreError::SlugTaken(_))),
        "constraints survive the swap: {clash:?}"
    );
}

async fn story_with_developments(
    store: &Store,
    count: usize,
) -> (StoryId, Vec<chrono::DateTime<chrono::Utc>>) {
    let story = opened_story(store).await;
    let mut recorded = Vec::new();
    for i in 0..count {
        let mut development = reported(&format!("development {i}"));
        development.occurred_at = july_13() + chrono::Duration::days(i as i64);
        let event = StoryEvent::DevelopmentReported(development);
        let occurred = july_13() + chrono::Duration::days(i as i64);
        let outcome = store
            .append(
                story,
                None,
                &[NewEvent::from_event(&event, Some(occurred))],
                &by_tester(),
            )
            .await
            .unwrap();
        recorded.push(outcome.events[0].recorded_at);
    }
    (story, recorded)
}

#[sqlx::test]
async fn state_at_known_at_matches_the_fold_of_the_events_recorded_by_then(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone()).with_checkpoint_every(5);
    let (story, recorded) = story_with_developments(&store, 23).await;
    let stream: Vec<_> = store.read_story(story).await.unwrap();
    // Ask in an order that makes later answers start from stored checkpoints.
    for k in [22usize, 3, 17, 10, 0, 22, 11] {
        let known_at = recorded[k];
        let from_store = store
            .state_at(story, None, Some(known_at))
            .await
            .unwrap()
            .unwrap();
        let expected =
            storyline::domain::replay::state_at(story, &stream, None, Some(known_at)).unwrap();
        assert_eq!(from_store, expected, "known at development {k}");
        assert_eq!(from_store.version, Version(k as i32 + 2));
    }
    let stored: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM replay_checkpoints ORDER BY version")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        !stored.is_empty() && stored.iter().all(|v| v % 5 == 0),
        "{stored:?}"
    );

    let now = store
        .state_at(story, Some(july_13()), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        now.developments.len(),
        1,
        "world-time cut on the projection"
    );
    assert_eq!(now.version, Version(24));
    let before_opening = recorded[0] - chrono::Duration::days(1);
    assert!(store
        .state_at(story, None, Some(before_opening))
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test]
async fn a_stored_fold_from_another_fold_version_is_ignored(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone()).with_checkpoint_every(5);
    let (story, recorded) = story_with_developments(&store, 12).await;
    // A bogus checkpoint written by some other fold version.
    sqlx::query(
        "INSERT INTO replay_checkpoints (story_id, version, fold_version, recorded_at, state)
         VALUES ($1, 10, 999, $2, '{}')",
    )
    .bind(story.0)
    .bind(recorded[8])
    .execute(&pool)
    .await
    .unwrap();
    let state = store
        .state_at(story, None, Some(recorded[9]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.developments.len(), 10);
}

/// Every index and key of the projection tables, as `(table, name,
/// definition without the schema)`.
async fn projection_indexes(pool: &sqlx::PgPool) -> Vec<(String, String, String)> {
    let mut indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text,
                regexp_replace(pg_get_indexdef(x.indexrelid), ' ON \\S+\\.', ' ON ')
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relname IN ('stories', 'story_developments', 'story_search')
           AND t.relnamespace = 'public'::regnamespace",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    indexes.sort();
    indexes
}

#[sqlx::test]
async fn rebuild_gives_the_fresh_tables_every_index_and_key_of_the_old(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("x")),
    )
    .await
    .unwrap();
    let before = projection_indexes(&pool).await;
    for shard in [
        "story_search_search_shard0_idx",
        "story_search_search_shard1_idx",
    ] {
        assert!(
            before.iter().any(|(_, name, _)| name == shard),
            "{shard}: {before:?}"
        );
    }
    store.rebuild_snapshots(|_| {}).await.unwrap();
    assert_eq!(projection_indexes(&pool).await, before);
}

/// Stories the list finds for these words or this actor.
async fn found(store: &Store, search: Option<&str>, actor: Option<&str>) -> usize {
    let filter = storyline::store::StoryFilter {
        status: None,
        search: search.map(str::to_owned),
        actor: actor.map(str::to_owned),
        public_only: false,
    };
    store.count_stories(&filter).await.unwrap() as usize
}

#[sqlx::test]
async fn reports_corrections_and_retractions_change_what_search_finds_as_their_append_returns(
    pool: sqlx::PgPool,
) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let mut zeppelin = reported("Zeppelin over the harbour");
    zeppelin.actors = vec![ActorRef {
        name: "Airship Society".into(),
        kind: ActorKind::Group,
        role: None,
    }];
    let id = zeppelin.development_id;
    append(&store, story, StoryEvent::DevelopmentReported(zeppelin))
        .await
        .unwrap();
    // No catch-up: the append wrote the search document.
    assert_eq!(found(&store, Some("zeppelins"), None).await, 1, "stemmed");
    assert_eq!(found(&store, None, Some(" airship SOCIETY ")).await, 1);
    assert_eq!(found(&store, Some("\"over the harbour\""), None).await, 1);
    assert_eq!(found(&store, Some("\"harbour zeppelin\""), None).await, 0);

    let correction = DevelopmentCorrected {
        schema_version: 1,
        development_id: id,
        changes: DevelopmentPatch {
            headline: Some("Balloon over the harbour".into()),
            actors: Some(vec![]),
            ..DevelopmentPatch::default()
        },
        reason: "it was a balloon".into(),
    };
    append(&store, story, StoryEvent::DevelopmentCorrected(correction))
        .await
        .unwrap();
    assert_eq!(found(&store, Some("zeppelin"), None).await, 0);
    assert_eq!(found(&store, Some("balloon harbour"), None).await, 1);
    assert_eq!(found(&store, None, Some("Airship Society")).await, 0);

    append(&store, story, retraction(id)).await.unwrap();
    assert_eq!(found(&store, Some("balloon"), None).await, 0);
    assert!(projection::verify(&store, |_| {}).await.unwrap().is_empty());
}

#[sqlx::test]
async fn search_finds_words_of_either_shard_through_both_shards_indexes(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let story = opened_story(&store).await;
    let words = [
        "aardvark", "badger", "cheetah", "dingo", "emu", "ferret", "gazelle", "heron", "ibis",
        "jackal", "koala", "lemur", "marmot", "narwhal", "ocelot", "pelican",
    ];
    for word in words {
        append(
            &store,
            story,
            StoryEvent::DevelopmentReported(reported(&format!("Sighting of a {word}"))),
        )
        .await
        .unwrap();
    }
    // The story's own document is in shard 0; sixteen UUIDv7s, each
    // ending in a random bit: a chance of 2^-16 that none is in shard 1.
    let shards: Vec<i16> =
        sqlx::query_scalar("SELECT DISTINCT shard FROM story_search ORDER BY shard")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(shards, [0, 1]);
    // Sequential and plain index scans priced out, the planner turns to
    // bitmaps: the plan below must read both shards' GIN indexes, and the
    // list must find every word however it is planned there.
    let options = (*pool.connect_options())
        .clone()
        .options([("enable_seqscan", "off"), ("enable_indexscan", "off")]);
    let indexes_only = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT 1 FROM story_search d WHERE d.search @@ 'dingo'::tsquery
                                                AND (d.shard = 0 OR d.shard = 1)",
    )
    .fetch_all(&indexes_only)
    .await
    .unwrap();
    let plan = plan.join("\n");
    for index in [
        "story_search_search_shard0_idx",
        "story_search_search_shard1_idx",
    ] {
        assert!(plan.contains(index), "{plan}");
    }
    let through_indexes = Store::from_pool(indexes_only);
    for searching in [&store, &through_indexes] {
        for word in words {
            assert_eq!(found(searching, Some(word), None).await, 1, "{word}");
        }
    }
    store.rebuild_snapshots(|_| {}).await.unwrap();
    for word in words {
        assert_eq!(found(&through_indexes, Some(word), None).await, 1, "{word}");
    }
}

#[sqlx::test]
async fn a_search_of_stop_words_only_or_a_blank_actor_finds_no_story(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    exchange::load_demo(&store).await.unwrap();
    assert_eq!(found(&store, Some("kabul"), None).await, 1);
    assert_eq!(found(&store, Some("the of"), None).await, 0);
    assert_eq!(found(&store, None, Some("  ")).await, 0);
}

#[sqlx::test]
async fn a_story_title_is_searchable_and_any_one_document_must_hold_every_term(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let title = store.load_snapshot(story).await.unwrap().unwrap().title;
    assert_eq!(found(&store, Some(&title), None).await, 1);
    for headline in ["Lighthouse keepers strike", "Ferry crews walk out"] {
        append(
            &store,
            story,
            StoryEvent::DevelopmentReported(reported(headline)),
        )
        .await
        .unwrap();
    }
    assert_eq!(found(&store, Some("lighthouse strike"), None).await, 1);
    assert_eq!(found(&store, Some("lighthouse ferry"), None).await, 0);
    assert_eq!(found(&store, Some("lighthouse or ferry"), None).await, 1);
    assert_eq!(found(&store, Some("strike -lighthouse"), None).await, 0);
}

#[sqlx::test]
async fn verify_reports_a_stale_search_document_and_rebuild_recomputes_it(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("Harbour strike")),
    )
    .await
    .unwrap();
    sqlx::query(
        "UPDATE story_search SET search = 'unrelated'::tsvector WHERE development_id <> $1",
    )
    .bind(Uuid::nil())
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(found(&store, Some("strike"), None).await, 0);
    let differences = projection::verify(&store, |_| {}).await.unwrap();
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(
        differences[0].detail.contains("search document"),
        "{differences:?}"
    );

    store.rebuild_snapshots(|_| {}).await.unwrap();
    assert_eq!(found(&store, Some("strike"), None).await, 1);
    assert!(projection::verify(&store, |_| {}).await.unwrap().is_empty());
}

#[sqlx::test]
async fn documents_of_another_analyzer_version_are_recomputed_on_migrate(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    exchange::load_demo(&store).await.unwrap();
    let documents = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT string_agg(search::text, '|' ORDER BY story_id, development_id) FROM story_search",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let analysed = documents(pool.clone()).await;
    // As an older release (or migration 0006 over older data) leaves it.
    sqlx::query("UPDATE search_analyzer SET version = 0")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE story_search SET search = to_tsvector('simple', 'old words')")
        .execute(&pool)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(documents(pool.clone()).await, analysed);
    assert_eq!(found(&store, Some("bomb"), Some("John Kirby")).await, 1);
    // Current documents are left alone.
    store.migrate().await.unwrap();
    assert_eq!(documents(pool).await, analysed);
}

#[sqlx::test]
async fn the_analysis_stems_the_demo_storys_words_as_postgres_english_does(pool: sqlx::PgPool) {
    let fixture = include_str!("../fixtures/kabul-airport-2021.ndjson");
    let mut words: Vec<String> = fixture
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1)
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    assert!(words.len() > 200, "{}", words.len());
    let ours: Vec<String> = words
        .iter()
        .map(|w| {
            storyline::domain::search::story_document(w, None)
                .as_str()
                .to_owned()
        })
        .collect();
    let postgres: Vec<String> = sqlx::query_scalar(
        "SELECT to_tsvector('english', w)::text FROM unnest($1::text[]) WITH ORDINALITY AS t(w, n)
         ORDER BY n",
    )
    .bind(&words)
    .fetch_all(&pool)
    .await
    .unwrap();
    let differing: Vec<_> = words
        .iter()
        .zip(ours.iter().zip(&postgres))
        .filter(|(_, (a, b))| a != b)
        .collect();
    assert!(differing.is_empty(), "{differing:#?}");
}

#[sqlx::test]
async fn every_append_path_writes_the_search_documents_of_its_events(pool: sqlx::PgPool) {
    // One event alone (no grouping), then several in one transaction with
    // a correction of an earlier one among them.
    let store = Store::from_pool(pool).with_grouped_appends(false);
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("Lighthouse keepers strike")),
    )
    .await
    .unwrap();
    assert_eq!(found(&store, Some("lighthouse keeper"), None).await, 1);

    let zeppelin = reported("Zeppelin over the harbour");
    let id = zeppelin.development_id;
    let occurred = zeppelin.occurred_at;
    let events = [
        NewEvent::from_event(&StoryEvent::DevelopmentReported(zeppelin), Some(occurred)),
        NewEvent::from_event(
            &correction(
                id,
                DevelopmentPatch {
                    headline: Some("Balloon over the harbour".into()),
                    ..DevelopmentPatch::default()
                },
            ),
            Some(occurred),
        ),
        NewEvent::from_event(
            &StoryEvent::DevelopmentReported(reported("Ferry crews walk out")),
            Some(occurred),
        ),
    ];
    store
        .append(story, None, &events, &by_tester())
        .await
        .unwrap();
    assert_eq!(found(&store, Some("zeppelin"), None).await, 0);
    assert_eq!(found(&store, Some("balloon"), None).await, 1);
    assert_eq!(found(&store, Some("ferry crews"), None).await, 1);
    assert!(projection::verify(&store, |_| {}).await.unwrap().is_empty());
}

#[sqlx::test]
async fn a_development_cannot_take_the_nil_id_of_the_storys_own_document(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let story = opened_story(&store).await;
    let mut nil = reported("Nobody's development");
    nil.development_id = Uuid::nil();
    let refused = append(&store, story, StoryEvent::DevelopmentReported(nil)).await;
    assert!(
        matches!(refused, Err(StoreError::Rule(FoldError::NilDevelopmentId))),
        "{refused:?}"
    );
    assert_eq!(store.current_version(story).await.unwrap(), Version(1));
}

/// Rows the connections of this database have read from `stories` so far,
/// by any scan: its sequential scans' rows and its indexes' entries.
async fn story_rows_read(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(t.seq_tup_read, 0) + coalesce(sum(i.idx_tup_read), 0)::bigint
         FROM pg_stat_user_tables t
         LEFT JOIN pg_stat_user_indexes i ON i.relid = t.relid
         WHERE t.relname = 'stories'
         GROUP BY t.seq_tup_read",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_page_of_a_common_word_reads_about_as_many_stories_as_it_shows(pool: sqlx::PgPool) {
    // One connection, so that the statistics it flushes are the list's.
    let options = (*pool.connect_options()).clone();
    let one = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let store = Store::from_pool(one.clone());
    // Stories of many developments, as a newsroom's are: with a few
    // documents in all, hashing every match and sorting the stories is
    // the cheaper plan, and the right one.
    const STORIES: usize = 300;
    const DEVELOPMENTS: usize = 30;
    for n in 0..STORIES {
        let story = StoryId::generate();
        // Every development of every second story has the word; the
        // newest stories alternate.
        let topic = match n % 2 {
            0 => "Harbour strike",
            _ => "Ferry timetable",
        };
        let mut events = vec![common::opening(&story.to_string())];
        events.extend(
            (0..DEVELOPMENTS).map(|d| common::development(&format!("{topic}, day {n}.{d}"))),
        );
        store
            .append(story, None, &events, &by_tester())
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE stories, story_search")
        .execute(&pool)
        .await
        .unwrap();
    let flush = || async {
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(&one)
            .await
            .unwrap();
    };
    let filter = storyline::store::StoryFilter {
        search: Some("harbour".into()),
        ..Default::default()
    };
    flush().await;
    let before = story_rows_read(&pool).await;
    let page = store.list_stories(&filter, None, 20).await.unwrap();
    flush().await;
    let read = story_rows_read(&pool).await - before;
    assert_eq!(page.len(), 20);
    // Walked newest first, the list stops at its 20th match, about the
    // 40th story; sorting every story first reads all 300. At least the
    // 20 shown: the statistics were flushed and count this list's reads.
    assert!(
        (20..=60).contains(&read),
        "the page read {read} story rows of {STORIES} for its 20"
    );
}
