//! DESIGN §10 over HTTP and WebSocket, on stories of the test's own: without
//! a token only PUBLIC stories exist on every surface; a read token sees
//! everything and writes nothing; an unknown or revoked token is refused on
//! any request; `--private` wants a token everywhere but health and metrics.

mod common;

use std::time::Duration;

use common::ws::Subscriber;
use common::{data, error_code, spawn_server, spawn_server_with, TestServer};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::store::Scope;

const OPEN: &str =
    "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }";
const REPORT: &str = "mutation($story: UUID!, $headline: String!) {
    reportDevelopment(storyId: $story, input: {headline: $headline, occurredAt: \"2024-05-01T00:00:00Z\",
        actors: [{name: \"Harbour Authority\", kind: ORGANIZATION}]}) { story { version } } }";

/// Every surface an anonymous reader could find a story on: the lookup by
/// id and by slug, the list with its count, search and actor filters, the
/// global feed and its count, and the story's own feed.
const SURFACES: &str = "query($id: UUID!, $slug: String!) {
    byId: story(id: $id) { id history { totalCount } stateAt { title } changes(from: \"2000-01-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\") { added { id } } }
    bySlug: story(slug: $slug) { id }
    stories(first: 50) { totalCount nodes { id } }
    searched: stories(search: \"harbour\") { totalCount nodes { id } }
    byActor: stories(actor: \"harbour authority\") { totalCount nodes { id } }
    events(first: 500) { totalCount nodes { storyId } }
    storyEvents: events(storyId: $id) { totalCount nodes { storyId } } }";

struct Story {
    id: String,
    slug: String,
}

async fn open(server: &TestServer, token: &str, slug: &str, extra: Value) -> Story {
    let mut input = json!({"slug": slug, "title": format!("Harbour story {slug}")});
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let opened = data(
        server
            .post(Some(token), OPEN, json!({"input": input}))
            .await,
    );
    let id = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(
        server
            .post(
                Some(token),
                REPORT,
                json!({"story": id, "headline": "Harbour closes"}),
            )
            .await,
    );
    Story {
        id,
        slug: slug.into(),
    }
}

/// Waits until the global feed shows every event of `stories` (it holds
/// back events while any transaction in the cluster runs, and other tests
/// run beside this one).
async fn wait_for_feed(server: &TestServer, token: &str, stories: &[&Story]) {
    let query =
        "query($id: UUID!) { story(id: $id) { version } events(storyId: $id) { totalCount } }";
    for story in stories {
        for _ in 0..200 {
            let answer = data(
                server
                    .post(Some(token), query, json!({"id": story.id}))
                    .await,
            );
            if answer["story"]["version"] == answer["events"]["totalCount"] {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Where `story` shows up for a request with `token` (or none).
async fn surfaces_showing(
    server: &TestServer,
    token: Option<&str>,
    story: &Story,
) -> Vec<&'static str> {
    let answer = data(
        server
            .post(token, SURFACES, json!({"id": story.id, "slug": story.slug}))
            .await,
    );
    let listed = |key: &str, field: &str| {
        answer[key]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n[field] == story.id.as_str())
    };
    let mut found = Vec::new();
    if !answer["byId"].is_null() {
        found.push("story(id)");
    }
    if !answer["bySlug"].is_null() {
        found.push("story(slug)");
    }
    for (key, name) in [
        ("stories", "stories"),
        ("searched", "stories(search)"),
        ("byActor", "stories(actor)"),
    ] {
        if listed(key, "id") {
            found.push(name);
        }
    }
    if listed("events", "storyId") {
        found.push("events");
    }
    if listed("storyEvents", "storyId") || answer["storyEvents"]["totalCount"] != 0 {
        found.push("events(storyId)");
    }
    found
}

const EVERY_SURFACE: [&str; 7] = [
    "story(id)",
    "story(slug)",
    "stories",
    "stories(search)",
    "stories(actor)",
    "events",
    "events(storyId)",
];

#[sqlx::test]
async fn internal_and_embargoed_stories_exist_only_for_token_holders_on_every_surface(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 6).await).await;
    let writer = server.token("desk").await;
    let reader = server.store_token("partner", Scope::Read).await;
    let public = open(&server, &writer, "harbour-public", json!({})).await;
    let internal = open(
        &server,
        &writer,
        "harbour-internal",
        json!({"visibility": "INTERNAL"}),
    )
    .await;
    let embargoed = open(
        &server,
        &writer,
        "harbour-embargoed",
        json!({"embargoUntil": "2999-01-01T00:00:00Z"}),
    )
    .await;

    wait_for_feed(&server, &writer, &[&public, &internal, &embargoed]).await;
    assert_eq!(
        surfaces_showing(&server, None, &public).await,
        EVERY_SURFACE
    );
    for hidden in [&internal, &embargoed] {
        assert_eq!(
            surfaces_showing(&server, None, hidden).await,
            Vec::<&str>::new(),
            "{}",
            hidden.slug
        );
        assert_eq!(
            surfaces_showing(&server, Some(&reader), hidden).await,
            EVERY_SURFACE
        );
        assert_eq!(
            surfaces_showing(&server, Some(&writer), hidden).await,
            EVERY_SURFACE
        );
    }
    // Counts are the database's: the hidden stories are not counted.
    let counts = data(
        server
            .query(SURFACES, json!({"id": public.id, "slug": public.slug}))
            .await,
    );
    assert_eq!(counts["stories"]["totalCount"], 1);
    assert_eq!(counts["searched"]["totalCount"], 1);
    assert_eq!(counts["events"]["totalCount"], 2);
    let all = data(
        server
            .post(
                Some(&reader),
                SURFACES,
                json!({"id": public.id, "slug": public.slug}),
            )
            .await,
    );
    assert_eq!(all["stories"]["totalCount"], 3);
    assert_eq!(all["events"]["totalCount"], 6);
    // A page of one stays full: the first story an anonymous reader gets
    // is the public one, though the hidden ones were updated later.
    let first = data(
        server
            .query(
                "{ stories(first: 1) { nodes { id } pageInfo { hasNextPage } } }",
                json!({}),
            )
            .await,
    );
    assert_eq!(first["stories"]["nodes"][0]["id"], public.id.as_str());
    assert_eq!(first["stories"]["pageInfo"]["hasNextPage"], false);

    let story = data(
        server
            .post(
                Some(&reader),
                "query($id: UUID!) { story(id: $id) { visibility embargoUntil } }",
                json!({"id": embargoed.id}),
            )
            .await,
    );
    assert_eq!(
        story["story"],
        json!({"visibility": "INTERNAL", "embargoUntil": "2999-01-01T00:00:00+00:00"})
    );

    // Set PUBLIC, the internal story's whole history becomes readable.
    data(server.post(Some(&writer), "mutation($s: UUID!) { setStoryVisibility(storyId: $s, visibility: PUBLIC) { story { visibility } } }",
        json!({"s": internal.id})).await);
    wait_for_feed(&server, &writer, &[&internal]).await;
    assert_eq!(
        surfaces_showing(&server, None, &internal).await,
        EVERY_SURFACE
    );
}

#[sqlx::test]
async fn an_embargo_lifts_itself_at_its_time(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let writer = server.token("desk").await;
    let until = chrono::Utc::now() + chrono::Duration::seconds(3);
    let story = open(
        &server,
        &writer,
        "harbour-soon",
        json!({"embargoUntil": until.to_rfc3339()}),
    )
    .await;
    assert!(surfaces_showing(&server, None, &story).await.is_empty());
    let wait =
        (until - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200);
    tokio::time::sleep(wait).await;
    wait_for_feed(&server, &writer, &[&story]).await;
    assert_eq!(surfaces_showing(&server, None, &story).await, EVERY_SURFACE);
    let lifted = data(
        server
            .query(
                "query($id: UUID!) { story(id: $id) { visibility } }",
                json!({"id": story.id}),
            )
            .await,
    );
    assert_eq!(lifted["story"]["visibility"], "PUBLIC");
}

#[sqlx::test]
async fn an_anonymous_whole_feed_subscriber_gets_public_events_only_and_a_token_holder_gets_all(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 6).await).await;
    let writer = server.token("desk").await;
    let reader = server.store_token("partner", Scope::Read).await;
    let public = open(&server, &writer, "harbour-public", json!({})).await;
    let internal = open(
        &server,
        &writer,
        "harbour-internal",
        json!({"visibility": "INTERNAL"}),
    )
    .await;

    let mut anonymous = Subscriber::connect(&server.url, json!({})).await;
    anonymous
        .subscribe("a", common::ws::EVENTS, json!({"after": "0"}))
        .await;
    let mut holder = Subscriber::connect(&server.url, json!({"token": reader})).await;
    holder
        .subscribe("h", common::ws::EVENTS, json!({"after": "0"}))
        .await;
    // Replayed from the table: 2 public events for one, 4 for the other.
    let replayed = anonymous.events(2, Duration::from_secs(5)).await;
    assert!(replayed.iter().all(|e| e["storyId"] == public.id.as_str()));
    holder.events(4, Duration::from_secs(5)).await;

    // Live: one event each; the anonymous subscriber sees only the public one.
    data(
        server
            .post(
                Some(&writer),
                REPORT,
                json!({"story": internal.id, "headline": "Quiet word"}),
            )
            .await,
    );
    data(
        server
            .post(
                Some(&writer),
                REPORT,
                json!({"story": public.id, "headline": "Harbour reopens"}),
            )
            .await,
    );
    let live = holder.events(2, Duration::from_secs(5)).await;
    assert_eq!(live[0]["storyId"], internal.id.as_str());
    assert_eq!(live[1]["storyId"], public.id.as_str());
    let seen = anonymous.event().await;
    assert_eq!(
        seen["storyId"],
        public.id.as_str(),
        "the internal event was skipped"
    );

    // Once the story is PUBLIC, its later events flow to anonymous readers.
    data(server.post(Some(&writer), "mutation($s: UUID!) { setStoryVisibility(storyId: $s, visibility: PUBLIC) { story { id } } }",
        json!({"s": internal.id})).await);
    let turned = anonymous.event().await;
    assert_eq!(turned["storyId"], internal.id.as_str());
    assert_eq!(turned["type"], "StoryVisibilityChanged");
}

#[sqlx::test]
async fn a_read_token_gets_forbidden_on_every_mutation_and_writes_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let writer = server.token("desk").await;
    let reader = server.store_token("partner", Scope::Read).await;
    let story = open(&server, &writer, "harbour", json!({})).await;
    let d = "0192f0c4-0000-7000-8000-0000000000c1";
    let mutations = [
        "mutation { openStory(input: {slug: \"other\", title: \"t\"}) { story { id } } }".to_owned(),
        format!("mutation {{ reportDevelopment(storyId: \"{}\", input: {{headline: \"h\", occurredAt: \"2024-01-01T00:00:00Z\"}}) {{ deduplicated }} }}", story.id),
        format!("mutation {{ correctDevelopment(storyId: \"{}\", developmentId: \"{d}\", changes: {{headline: \"x\"}}, reason: \"r\") {{ deduplicated }} }}", story.id),
        format!("mutation {{ retractDevelopment(storyId: \"{}\", developmentId: \"{d}\", reason: \"r\") {{ deduplicated }} }}", story.id),
        format!("mutation {{ setStoryStatus(storyId: \"{}\", status: ONGOING) {{ deduplicated }} }}", story.id),
        format!("mutation {{ setVerification(storyId: \"{}\", developmentId: \"{d}\", status: FALSE) {{ deduplicated }} }}", story.id),
        format!("mutation {{ setStoryVisibility(storyId: \"{}\", visibility: INTERNAL) {{ deduplicated }} }}", story.id),
        "mutation { submitReport(input: {body: \"The harbour reopened on Monday.\"}) { deduplicated } }".to_owned(),
        format!("mutation {{ dismissReport(reportId: \"{d}\", reason: \"off topic\") {{ id }} }}"),
    ];
    let schema_mutations = data(
        server
            .query(
                "{ __schema { mutationType { fields { name } } } }",
                json!({}),
            )
            .await,
    );
    assert_eq!(
        schema_mutations["__schema"]["mutationType"]["fields"]
            .as_array()
            .unwrap()
            .len(),
        mutations.len(),
        "every mutation is tried"
    );
    for mutation in &mutations {
        let refused = server.post(Some(&reader), mutation, json!({})).await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{mutation}: {refused}");
    }
    // The story's version, not the feed: the feed holds back events while
    // any transaction in the cluster runs, and other tests run beside this.
    let after = data(
        server
            .post(
                Some(&writer),
                "query($id: UUID!) { story(id: $id) { version } } ",
                json!({"id": story.id}),
            )
            .await,
    );
    assert_eq!(after["story"]["version"], 2, "nothing was written");
    let metrics = server
        .client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("storyline_refused_requests_total{reason=\"FORBIDDEN\"} 7"),
        "{metrics}"
    );
}

#[sqlx::test]
async fn an_unknown_or_revoked_token_is_refused_on_queries_and_sockets(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let reader = server.store_token("partner", Scope::Read).await;
    let ok = server
        .post(Some(&reader), "{ stories { totalCount } }", json!({}))
        .await;
    data(ok);
    // A mutation remembers the token (its append re-checks it): once
    // revoked, it must still be refused as unknown, not as read-only.
    let open_story = "mutation { openStory(input: {slug: \"s\", title: \"t\"}) { story { id } } }";
    let forbidden = server.post(Some(&reader), open_story, json!({})).await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN");
    server.store.revoke_token("partner").await.unwrap();
    for token in [reader.as_str(), "sl_never_issued"] {
        let refused = server
            .post(Some(token), "{ stories { totalCount } }", json!({}))
            .await;
        assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
        let refused = server.post(Some(token), open_story, json!({})).await;
        assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
        assert!(refused.get("data").is_none() || refused["data"].is_null());
        let closed = Subscriber::refused(&server.url, json!({"token": token})).await;
        assert!(closed, "the socket's connection_init was refused");
    }
}

#[sqlx::test]
async fn a_private_server_wants_a_live_token_for_everything_but_health_and_metrics(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server_with(common::store_with(pool, connect, 4).await, |state| {
        state.private = true;
    })
    .await;
    let reader = server.store_token("partner", Scope::Read).await;
    let refused = server.query("{ stories { totalCount } }", json!({})).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED");
    data(
        server
            .post(Some(&reader), "{ stories { totalCount } }", json!({}))
            .await,
    );
    // The desk's pages are shells that hold no data (they ask for the
    // token); what they would show, exports included, needs the token.
    let page = server
        .client()
        .get(format!("{}/", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let export = format!("{}/stories/any-story/developments.csv", server.url);
    let refused = server.client().get(&export).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let allowed = server
        .client()
        .get(&export)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.status(),
        404,
        "past the token check, the story does not exist"
    );
    for open_path in ["/healthz", "/readyz", "/metrics"] {
        let answer = server
            .client()
            .get(format!("{}{open_path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{open_path}");
    }
    assert!(Subscriber::refused(&server.url, json!({})).await);
    Subscriber::connect(&server.url, json!({"token": reader})).await;
}

/// Every root field and every Story field, as the served schema has them.
/// A field added later fails this test until it is placed here, after its
/// access rule is decided and tested above.
#[sqlx::test]
async fn every_root_and_story_field_is_covered_by_the_access_rule(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 2).await).await;
    let names = |answer: &Value, kind: &str| -> Vec<String> {
        let mut names: Vec<String> = answer[kind]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let answer = data(server.query("{ __schema {
        queryType { fields { name } } subscriptionType { fields { name } } mutationType { fields { name } } }
        __type(name: \"Story\") { fields { name } } }", json!({})).await);
    // Roots: story (null when hidden), stories (filtered in SQL), events
    // (filtered in SQL), the events subscription (filtered in SQL and in
    // the fan-out); report, reports, feeds and the reports subscription
    // need a live token (tests/reports.rs); mutations need a write token.
    assert_eq!(
        names(&answer["__schema"], "queryType"),
        ["events", "feeds", "report", "reports", "stories", "story"]
    );
    assert_eq!(
        names(&answer["__schema"], "subscriptionType"),
        ["events", "reports"]
    );
    assert_eq!(names(&answer["__schema"], "mutationType").len(), 9);
    // Story fields are reached only through a Story, which an anonymous
    // request never gets for a hidden story.
    assert_eq!(
        names(&answer, "__type"),
        [
            "changes",
            "createdAt",
            "embargoUntil",
            "history",
            "id",
            "slug",
            "snapshot",
            "stateAt",
            "updatedAt",
            "version",
            "visibility",
        ]
    );
}

#[sqlx::test]
async fn a_snapshot_cached_for_a_token_holder_is_not_served_to_an_anonymous_request(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = spawn_server(common::store_with(pool, connect, 4).await).await;
    let writer = server.token("desk").await;
    let internal = open(
        &server,
        &writer,
        "harbour-internal",
        json!({"visibility": "INTERNAL"}),
    )
    .await;
    let read = "query($id: UUID!) { story(id: $id) { snapshot { title developments { headline } }
        stateAt(knownAt: \"2999-01-01T00:00:00Z\") { title } } }";
    for _ in 0..2 {
        let seen = data(
            server
                .post(Some(&writer), read, json!({"id": internal.id}))
                .await,
        );
        assert_eq!(
            seen["story"]["snapshot"]["developments"][0]["headline"],
            "Harbour closes"
        );
    }
    let anonymous = data(server.query(read, json!({"id": internal.id})).await);
    assert_eq!(anonymous["story"], Value::Null);
    assert!(surfaces_showing(&server, None, &internal).await.is_empty());
}
