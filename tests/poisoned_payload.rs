//! A stored payload this code cannot read (written by hand, or by an older
//! release that accepted a number beyond a double) stays that story's
//! problem: every other story, the global feed, subscriptions, verify and
//! export keep working.

mod common;

use common::ws::{Subscriber, EVENTS};
use common::{data, spawn_server, store_with};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::StoryId;

async fn open(server: &common::TestServer, token: &str, slug: &str) -> String {
    let opened = server
        .post(
            Some(token),
            "mutation($slug: String!) { openStory(input: {slug: $slug, title: \"T\"}) { story { id } } }",
            json!({"slug": slug}),
        )
        .await;
    data(opened)["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[sqlx::test]
async fn an_unreadable_payload_fails_its_story_alone(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 8).await;
    let server = spawn_server(store.clone()).await;
    let token = server.token("probe").await;
    let good = open(&server, &token, "good").await;
    let bad = open(&server, &token, "bad").await;
    // What an older release let through: 1e400 is no double.
    sqlx::query(
        "INSERT INTO events (position, id, story_id, version, type, schema_version, payload,
                             metadata, occurred_at, recorded_at)
         VALUES (pg_current_xact_id()::text::bigint << 16, gen_random_uuid(), $1, 2,
                 'DevelopmentReported', 1,
                 '{\"developmentId\": \"0190a1b2-0000-7000-8000-0000000000aa\",
                   \"headline\": \"Toll\", \"occurredAt\": \"2021-07-13T00:00:00Z\",
                   \"figures\": [{\"metric\": \"killed\", \"value\": 1e400}]}',
                 '{}', '2021-07-13T00:00:00Z', now())",
    )
    .bind(uuid::Uuid::parse_str(&bad).unwrap())
    .execute(store.pool())
    .await
    .unwrap();
    // The snapshot tables take it in too, as a rebuild would.
    store.rebuild_snapshots(|_| {}).await.unwrap();
    // The feed shows settled events only: a transaction elsewhere in the
    // cluster (another test's) may still be running for a moment.
    store
        .wait_until_settled(std::time::Duration::from_secs(30))
        .await
        .unwrap();

    let feed = data(
        server
            .query(
                "{ events(first: 10) { totalCount nodes { storyId version type } } }",
                json!({}),
            )
            .await,
    );
    assert_eq!(feed["events"]["totalCount"], 3);
    assert_eq!(feed["events"]["nodes"].as_array().map(Vec::len), Some(3));

    let stories = server
        .query(
            "{ stories { nodes { slug snapshot { title } } } }",
            json!({}),
        )
        .await;
    let nodes = stories["data"]["stories"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let good_title = nodes
        .iter()
        .find(|n| n["slug"] == "good")
        .map(|n| n["snapshot"]["title"].clone());
    assert_eq!(good_title, Some(json!("T")), "{stories}");
    let errors = stories["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        errors.len(),
        1,
        "the bad story's snapshot alone fails: {stories}"
    );

    let good_story = server
        .query(
            "query($id: UUID!) { story(id: $id) { history { totalCount } stateAt { version } } }",
            json!({"id": good}),
        )
        .await;
    assert!(good_story.get("errors").is_none(), "{good_story}");

    let bad_story = server
        .query(
            "query($id: UUID!) { story(id: $id) { stateAt { version } history { totalCount } } }",
            json!({"id": bad}),
        )
        .await;
    assert_eq!(
        bad_story["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "the story reports that it holds an unreadable event: {bad_story}"
    );
    assert!(
        bad_story["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot read")),
        "{bad_story}"
    );
    assert_eq!(bad_story["data"]["story"]["history"]["totalCount"], 2);

    let mut subscriber = Subscriber::connect(&server.url, json!({})).await;
    subscriber
        .subscribe("all", EVENTS, json!({"after": "0"}))
        .await;
    let delivered = subscriber
        .events(3, std::time::Duration::from_secs(30))
        .await;
    assert_eq!(delivered.len(), 3, "{delivered:?}");

    let differences = storyline::projection::verify(&store, |_| {}).await.unwrap();
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(
        differences[0].story,
        StoryId(uuid::Uuid::parse_str(&bad).unwrap())
    );

    let mut exported = Vec::new();
    let lines = storyline::exchange::export(&store, None, &mut exported)
        .await
        .unwrap();
    assert_eq!(lines, 3);
    let text = String::from_utf8(exported).unwrap();
    let verbatim = format!("1{}", "0".repeat(400));
    assert!(
        text.lines().any(|l| l.contains(&verbatim)),
        "the unreadable payload is exported as stored: {text}"
    );
    assert_eq!(text.lines().count(), 3);
}

#[sqlx::test]
async fn an_event_of_a_type_the_code_does_not_know_cannot_be_stored(pool: sqlx::PgPool) {
    storyline::store::MIGRATOR.run(&pool).await.unwrap();
    let refused = sqlx::query(
        "INSERT INTO events (position, id, story_id, version, type, schema_version, payload,
                             occurred_at, recorded_at)
         VALUES (1, gen_random_uuid(), gen_random_uuid(), 1, 'StoryDeleted', 1, '{}', now(), now())",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    let constraint = match &refused {
        sqlx::Error::Database(e) => e.constraint().map(str::to_owned),
        _ => None,
    };
    assert_eq!(
        constraint.as_deref(),
        Some("events_type_known"),
        "{refused}"
    );
}
