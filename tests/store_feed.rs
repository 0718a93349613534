//! The global feed: a reader that has seen position p never later meets a
//! new event at a position <= p.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{by_tester, development, join_all, opened_story, opening, store_with};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Connection;
use storyline::domain::{EventId, Position, StoryId};
use storyline::store::{FeedFilter, Store, StoreError};

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: usize = 200;
const ROUNDS: usize = 5;

#[sqlx::test]
async fn a_polling_reader_sees_every_event_of_eight_concurrent_writers_once_in_order(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 16).await;
    let mut after = Position::START;
    let mut seen: HashSet<EventId> = HashSet::new();
    for round in 0..ROUNDS {
        let mut expected: HashSet<EventId> = HashSet::new();
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let store = store.clone();
            let story = StoryId::generate();
            let opening = opening(&story.to_string());
            let events: Vec<_> = std::iter::once(opening)
                .chain((1..EVENTS_PER_WRITER).map(|i| development(&format!("event {i}"))))
                .collect();
            expected.extend(events.iter().map(|e| e.id));
            writers.push(tokio::spawn(async move {
                for event in events {
                    store.append(story, None, &[event], &by_tester()).await?;
                }
                Ok::<(), StoreError>(())
            }));
        }
        let writers_done = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_until_quiet(store.clone(), after, writers_done.clone()));
        for result in join_all(writers).await {
            result.expect("writer appends");
        }
        writers_done.store(true, Ordering::SeqCst);
        let delivered = tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .expect("reader finishes")
            .expect("reader did not panic");

        let mut previous = after;
        for (position, id) in &delivered {
            assert!(
                *position > previous,
                "round {round}: position {position} after {previous}"
            );
            previous = *position;
            assert!(
                seen.insert(*id),
                "round {round}: event {id} delivered twice"
            );
            assert!(
                expected.contains(id),
                "round {round}: unexpected event {id}"
            );
        }
        assert_eq!(
            delivered.len(),
            expected.len(),
            "round {round}: every event delivered"
        );
        after = previous;
    }
    let tail = store
        .read_feed(after, 100, &FeedFilter::all())
        .await
        .unwrap();
    assert!(tail.is_empty(), "nothing new after the last round");
}

/// Polls the feed from `after` like a consumer would, until the writers are
/// done and a read begun after they settled finds nothing new.
async fn read_until_quiet(
    store: Store,
    mut after: Position,
    writers_done: Arc<AtomicBool>,
) -> Vec<(Position, EventId)> {
    let mut delivered = Vec::new();
    loop {
        let done = writers_done.load(Ordering::SeqCst);
        if done {
            // Every writer has committed; once their transactions (and any
            // older one elsewhere in the cluster) are settled, an empty read
            // means the end.
            settle(&store).await;
        }
        let page = store
            .read_feed(after, 500, &FeedFilter::all())
            .await
            .expect("feed readable");
        if page.is_empty() {
            if done {
                return delivered;
            }
            tokio::task::yield_now().await;
        }
        for event in page {
            after = event.position;
            delivered.push((event.position, event.id));
        }
    }
}

/// The hazard the guard exists for, made deterministic: an older writer's
/// transaction is open when a younger one commits. Read plainly by position,
/// the younger event would be seen first and the older one would then appear
/// at a lower position. The feed must hold the younger event back instead.
#[sqlx::test]
async fn the_feed_holds_back_a_commit_while_an_older_writer_is_still_open(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect.clone(), 8).await;
    let mut older = sqlx::PgConnection::connect_with(&connect).await.unwrap();
    let mut older_tx = older.begin().await.unwrap();
    let older_story = StoryId::generate();
    // What an append does, stopped before its commit.
    sqlx::query(
        "INSERT INTO events (position, id, story_id, version, type, schema_version, payload, occurred_at, recorded_at)
         VALUES (pg_current_xact_id()::text::bigint << 16, gen_random_uuid(), $1, 1, 'StoryOpened', 1, '{}', now(), now())",
    )
    .bind(older_story.0)
    .execute(&mut *older_tx)
    .await
    .unwrap();

    let younger = store
        .append(
            StoryId::generate(),
            None,
            &[opening("younger")],
            &by_tester(),
        )
        .await
        .unwrap();
    let younger_position = younger.events[0].position;
    let plainly_visible: Vec<i64> =
        sqlx::query_scalar("SELECT position FROM events ORDER BY position")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        plainly_visible,
        vec![younger_position.0],
        "a plain read would already show it"
    );
    assert!(
        store
            .read_feed(Position::START, 10, &FeedFilter::all())
            .await
            .unwrap()
            .is_empty(),
        "the feed holds the younger event back while the older writer is open"
    );

    older_tx.commit().await.unwrap();
    settle(&store).await;
    let feed = store
        .read_feed(Position::START, 10, &FeedFilter::all())
        .await
        .unwrap();
    let stories: Vec<StoryId> = feed.iter().map(|e| e.story_id).collect();
    assert_eq!(stories, vec![older_story, younger.events[0].story_id]);
    assert!(
        feed[0].position < younger_position,
        "the older writer's event sorts first"
    );
}

#[sqlx::test]
async fn the_feed_can_be_filtered_to_one_story(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    let first = opened_story(&store).await;
    let second = opened_story(&store).await;
    store
        .append(first, None, &[development("a")], &by_tester())
        .await
        .unwrap();
    store
        .append(second, None, &[development("b")], &by_tester())
        .await
        .unwrap();
    settle(&store).await;
    let only_first = store
        .read_feed(Position::START, 10, &FeedFilter::story(first))
        .await
        .unwrap();
    assert_eq!(only_first.len(), 2);
    assert!(only_first.iter().all(|e| e.story_id == first));
}

#[sqlx::test]
async fn settled_head_excludes_what_is_already_committed(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    opened_story(&store).await;
    settle(&store).await;
    let head = store.settled_head().await.unwrap();
    assert!(store
        .read_feed(head, 10, &FeedFilter::all())
        .await
        .unwrap()
        .is_empty());
    let story = opened_story(&store).await;
    settle(&store).await;
    let after = store.read_feed(head, 10, &FeedFilter::all()).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].story_id, story);
}

/// Transaction ids are cluster-wide, so a test running beside this one can
/// hold the feed back for a moment; wait for it rather than flake.
async fn settle(store: &Store) {
    store
        .wait_until_settled(Duration::from_secs(30))
        .await
        .expect("transactions finish");
}
