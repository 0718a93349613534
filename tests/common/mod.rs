//! Helpers shared by the integration tests. Every test gets its own database
//! from `#[sqlx::test]`; nothing here touches the dev database.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::events::{DevelopmentReported, StoryEvent, StoryOpened};
use storyline::domain::StoryId;
use storyline::store::{EventMetadata, NewEvent, Store};

/// A store on the test's database with room for `connections` concurrent
/// writers.
pub async fn store_with(pool: PgPoolOptions, connect: PgConnectOptions, connections: u32) -> Store {
    let pool = pool
        .max_connections(connections)
        .connect_with(connect)
        .await
        .expect("test database reachable");
    Store::from_pool(pool)
}

pub fn july_13() -> DateTime<Utc> {
    "2021-07-13T00:00:00Z".parse().expect("valid date")
}

pub fn reported(headline: &str) -> DevelopmentReported {
    DevelopmentReported::new(uuid::Uuid::now_v7(), headline, july_13())
}

/// A new development, reported on 13 July 2021.
pub fn development(headline: &str) -> NewEvent {
    let event = StoryEvent::DevelopmentReported(reported(headline));
    NewEvent::from_event(&event, Some(july_13()))
}

pub fn opening(slug: &str) -> NewEvent {
    let event = StoryEvent::StoryOpened(StoryOpened {
        schema_version: 1,
        slug: slug.into(),
        title: slug.into(),
        summary: None,
        topics: vec![],
    });
    NewEvent::from_event(&event, None)
}

pub fn by_tester() -> EventMetadata {
    EventMetadata::by("tester")
}

/// A story with its StoryOpened event appended (version 1).
pub async fn opened_story(store: &Store) -> StoryId {
    let story = StoryId::generate();
    store
        .append(story, None, &[opening(&story.to_string())], &by_tester())
        .await
        .expect("story opens");
    story
}

/// Awaits spawned tasks in order, failing the test if one panicked.
pub async fn join_all<T>(handles: impl IntoIterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("task did not panic"));
    }
    results
}
