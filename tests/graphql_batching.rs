//! No N+1: a page of stories with their snapshots costs a fixed number of
//! SQL statements however many stories it holds. Statements are counted
//! from sqlx's own query log (tracing target `sqlx::query`), so this file
//! holds one test: the counter is process-wide.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{data, spawn_server, store_with};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::store::{EventMetadata, NewEvent};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Counts the statements sqlx runs.
struct StatementCounter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for StatementCounter {
    fn enabled(
        &self,
        metadata: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        metadata.target() == "sqlx::query"
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn statements_for(
    counter: &AtomicUsize,
    run: impl std::future::Future<Output = ()>,
) -> usize {
    let before = counter.load(Ordering::SeqCst);
    run.await;
    counter.load(Ordering::SeqCst) - before
}

#[sqlx::test]
async fn a_page_of_stories_with_snapshots_costs_the_same_few_statements_for_10_or_100(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let counter = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(StatementCounter(counter.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber");

    let server = spawn_server(store_with(pool, connect, 10).await).await;
    for i in 0..100 {
        let story = storyline::domain::StoryId::generate();
        let events = [
            common::opening(&format!("story-{i}")),
            common::development("news"),
        ];
        let events: Vec<NewEvent> = events.into_iter().collect();
        server
            .store
            .append(story, None, &events, &EventMetadata::by("seed"))
            .await
            .expect("seeded");
    }
    // Wake-ups of the seeding appends must not count as the page's.
    server.store.flush_notifications().await;
    // The pool opens connections as the first pages need them, and sqlx
    // runs statements of its own on each: warm it up so they do not count.
    data(server.query(page_warm_up(), json!({"first": 100})).await);
    let page = "query($first: Int) { stories(first: $first) { totalCount nodes { slug version
        snapshot { title developments { headline } actors { name } } } } }";

    let mut nodes = 0;
    let ten = statements_for(&counter, async {
        let response = data(server.query(page, json!({"first": 10})).await);
        nodes += response["stories"]["nodes"].as_array().unwrap().len();
    })
    .await;
    let hundred = statements_for(&counter, async {
        let response = data(server.query(page, json!({"first": 100})).await);
        nodes += response["stories"]["nodes"].as_array().unwrap().len();
        assert_eq!(
            response["stories"]["nodes"][0]["snapshot"]["developments"][0]["headline"],
            "news"
        );
    })
    .await;
    assert_eq!(nodes, 110);
    assert!(ten > 0, "the counter sees sqlx statements");
    assert_eq!(ten, hundred, "statements for 10 stories vs 100");
    assert!(
        hundred <= 6,
        "{hundred} statements for a page of 100 stories"
    );
}

/// The measured page's query, for warming the pool before measuring.
fn page_warm_up() -> &'static str {
    "query($first: Int) { stories(first: $first) { totalCount nodes { slug version
        snapshot { title developments { headline } actors { name } } } } }"
}
