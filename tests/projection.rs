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
    sqlx::query("UPDATE stories SET title = 'Tampered', status = 'DORMANT'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM story_developments WHERE reported_in_version = 2")
        .execute(&pool)
        .await
        .unwrap();

    let differences = projection::verify(&store, |_| {}).await.unwrap();
    let details: Vec<&str> = differences.iter().map(|d| d.detail.as_str()).collect();
    assert_eq!(differences.len(), 3, "{details:#?}");
    assert!(details.iter().any(|d| d.starts_with("title")));
    assert!(details.iter().any(|d| d.starts_with("status")));
    assert!(details
        .iter()
        .any(|d| d.contains("missing from the snapshot")));

    let mut progress = Vec::new();
    let report = store
        .rebuild_snapshots(|events| progress.push(events))
        .await
        .unwrap();
    assert_eq!((report.stories, report.events), (1, 13));
    assert_eq!(progress.last(), Some(&13));
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
    let store = Store::from_pool(pool.clone()).with_snapshot_every(5);
    let (story, recorded) = story_with_developments(&store, 23).await;
    let stream: Vec<_> = store.read_story(story).await.unwrap();
    // Ask in an order that makes later answers start from stored folds.
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
        sqlx::query_scalar("SELECT version FROM replay_snapshots ORDER BY version")
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
    let store = Store::from_pool(pool.clone()).with_snapshot_every(5);
    let (story, recorded) = story_with_developments(&store, 12).await;
    // A bogus stored fold written by some other fold version.
    sqlx::query(
        "INSERT INTO replay_snapshots (story_id, version, fold_version, recorded_at, state)
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
         WHERE t.relname IN ('stories', 'story_developments')
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
    assert!(
        before
            .iter()
            .any(|(_, name, _)| name == "stories_search_idx"),
        "{before:?}"
    );
    store.rebuild_snapshots(|_| {}).await.unwrap();
    assert_eq!(projection_indexes(&pool).await, before);
}

/// Stories the list finds for these words or this actor.
async fn found(store: &Store, search: Option<&str>, actor: Option<&str>) -> usize {
    let filter = storyline::store::StoryFilter {
        status: None,
        search: search.map(str::to_owned),
        actor: actor.map(str::to_owned),
    };
    store.count_stories(&filter).await.unwrap() as usize
}

#[sqlx::test]
async fn the_search_model_follows_reports_corrections_and_retractions_once_caught_up(
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
    assert_eq!(
        found(&store, Some("zeppelin"), None).await,
        0,
        "asynchronous"
    );
    store.catch_up_search().await.unwrap();
    assert_eq!(found(&store, Some("zeppelins"), None).await, 1, "stemmed");
    assert_eq!(found(&store, None, Some("airship society")).await, 1);

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
    store.catch_up_search().await.unwrap();
    assert_eq!(found(&store, Some("zeppelin"), None).await, 0);
    assert_eq!(found(&store, Some("balloon"), None).await, 1);
    assert_eq!(found(&store, None, Some("Airship Society")).await, 0);

    let retraction = DevelopmentRetracted {
        schema_version: 1,
        development_id: id,
        reason: "hoax".into(),
    };
    append(&store, story, StoryEvent::DevelopmentRetracted(retraction))
        .await
        .unwrap();
    store.catch_up_search().await.unwrap();
    assert_eq!(found(&store, Some("balloon"), None).await, 0);
    // A step with nothing new consumes nothing.
    assert_eq!(store.project_search_step().await.unwrap(), 0);
}

#[sqlx::test]
async fn rebuild_recomputes_the_search_model_and_its_checkpoint(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("Harbour strike")),
    )
    .await
    .unwrap();
    sqlx::query("DELETE FROM story_search")
        .execute(&pool)
        .await
        .unwrap();
    store.rebuild_snapshots(|_| {}).await.unwrap();
    assert_eq!(found(&store, Some("strike"), None).await, 1);
    assert_eq!(
        store.project_search_step().await.unwrap(),
        0,
        "checkpoint at the end"
    );
}

#[sqlx::test]
async fn a_running_search_projector_makes_new_reports_searchable_without_a_catch_up(
    pool: sqlx::PgPool,
) {
    let store = Store::from_pool(pool);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let projector = tokio::spawn({
        let store = store.clone();
        async move { store.run_search_projector(stopping).await }
    });
    let story = opened_story(&store).await;
    append(
        &store,
        story,
        StoryEvent::DevelopmentReported(reported("Lighthouse keepers strike")),
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while found(&store, Some("lighthouse"), None).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the projector never indexed the report"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.send_replace(true);
    projector.await.expect("the projector stops when asked");
}
