//! Live subscriptions over WebSocket (graphql-transport-ws): replay then
//! live, every event exactly once and in order, across server processes,
//! through a dropped LISTEN connection, past a subscriber that never reads,
//! and through a graceful shutdown.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::ws::{position, Subscriber, EVENTS};
use common::{data, error_code, spawn_server, spawn_server_with, store_with, TestServer};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::Position;
use storyline::domain::StoryId;
use storyline::store::{FeedFilter, NewEvent};

const WAIT: Duration = Duration::from_secs(20);

const REPORT: &str = "mutation($story: UUID!, $input: DevelopmentInput!) {
    reportDevelopment(storyId: $story, input: $input) { events { id position } } }";

async fn server_on(pool: PgPoolOptions, connect: PgConnectOptions) -> TestServer {
    spawn_server(store_with(pool, connect, 20).await).await
}

/// Opens a story over GraphQL; its id.
async fn open_story(server: &TestServer, token: &str, slug: &str) -> String {
    let opened = server
        .post(
            Some(token),
            "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }",
            json!({"input": {"slug": slug, "title": slug}}),
        )
        .await;
    data(opened)["openStory"]["story"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn report(server: &TestServer, token: &str, story: &str, headline: &str) -> Value {
    let response = server
        .post(
            Some(token),
            REPORT,
            json!({"story": story, "input": {"headline": headline, "occurredAt": "2024-01-01T00:00:00Z"}}),
        )
        .await;
    data(response)["reportDevelopment"]["events"][0].clone()
}

/// Every event in the feed, once every writer has finished.
async fn all_positions(server: &TestServer) -> Vec<i64> {
    server
        .store
        .wait_until_settled(WAIT)
        .await
        .expect("settled");
    server
        .store
        .read_feed(Position::START, 100_000, &FeedFilter::all())
        .await
        .expect("feed")
        .iter()
        .map(|e| e.position.0)
        .collect()
}

fn assert_strictly_increasing(positions: &[i64]) {
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "positions not strictly increasing: {positions:?}"
    );
}

#[sqlx::test]
async fn a_graphql_ws_client_gets_replay_then_live_with_no_gap_and_no_duplicate(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "seam").await;
    let mut before = Vec::new();
    for i in 0..4 {
        before.push(report(&server, &token, &story, &format!("before {i}")).await);
    }
    // Resume after the second of the four: three replayed (2 reports and
    // nothing else), then five live.
    let after = before[1]["position"].as_str().unwrap().to_owned();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http-audit");
    let ws_url = format!("{}/graphql", server.url.replacen("http", "ws", 1));
    let mut node = Command::new("node")
        .args(["subscribe.mjs", &ws_url, "7", &after])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let stdout = node.stdout.take().expect("stdout");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut next_line = async || {
        tokio::time::timeout(WAIT, lines.recv())
            .await
            .expect("node answers in time")
            .expect("node still running")
    };
    assert_eq!(next_line().await, "ready");
    let mut received: Vec<Value> = Vec::new();
    for _ in 0..2 {
        received.push(serde_json::from_str(&next_line().await).unwrap());
    }
    for i in 0..5 {
        report(&server, &token, &story, &format!("live {i}")).await;
    }
    for _ in 0..5 {
        received.push(serde_json::from_str(&next_line().await).unwrap());
    }
    let status = tokio::task::spawn_blocking(move || node.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "node exited with {status}");

    let positions: Vec<i64> = received.iter().map(position).collect();
    let expected: Vec<i64> = all_positions(&server)
        .await
        .into_iter()
        .filter(|p| *p > after.parse::<i64>().unwrap())
        .collect();
    assert_eq!(
        positions, expected,
        "exactly the events after {after}, in order"
    );
    let versions: Vec<i64> = received
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [4, 5, 6, 7, 8, 9, 10]);
}

#[sqlx::test]
async fn three_subscribers_see_every_event_of_eight_concurrent_writers_once_in_order(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = Arc::new(server_on(pool, connect).await);
    let token = server.token("desk").await;
    let start = server.store.settled_head().await.unwrap();
    let mut subscribers = Vec::new();
    for i in 0..3 {
        let mut subscriber = Subscriber::connect(&server.url, json!({})).await;
        subscriber
            .subscribe(
                &format!("s{i}"),
                EVENTS,
                json!({"after": start.to_string()}),
            )
            .await;
        subscribers.push(subscriber);
    }
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (server, token) = (server.clone(), token.clone());
            tokio::spawn(async move {
                let story = open_story(&server, &token, &format!("writer-{w}")).await;
                for i in 0..20 {
                    report(&server, &token, &story, &format!("w{w} n{i}")).await;
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let expected = all_positions(&server).await;
    assert_eq!(expected.len(), 8 * 21);
    for subscriber in &mut subscribers {
        let events = subscriber.events(expected.len(), WAIT).await;
        let positions: Vec<i64> = events.iter().map(position).collect();
        assert_strictly_increasing(&positions);
        assert_eq!(positions, expected);
    }
}

/// A second server process (the real binary) on the same database.
struct OtherProcess {
    child: Child,
    url: String,
}

impl Drop for OtherProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn database_url(connect: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        connect.get_username(),
        connect.get_host(),
        connect.get_port(),
        connect.get_database().expect("a test database")
    )
}

async fn start_binary(connect: &PgConnectOptions) -> OtherProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["serve", "--listen", &listen])
        .env("DATABASE_URL", database_url(connect))
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("the binary starts");
    let process = OtherProcess {
        child,
        url: format!("http://{listen}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        let ready = client.get(format!("{}/readyz", process.url)).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the second server did not become ready");
}

#[sqlx::test]
async fn a_subscriber_on_one_server_receives_what_another_server_process_appends(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let here = server_on(pool, connect.clone()).await;
    let token = here.token("desk").await;
    let there = start_binary(&connect).await;
    let mut subscriber = Subscriber::connect(&here.url, json!({})).await;
    let start = here.store.settled_head().await.unwrap();
    subscriber
        .subscribe("s", EVENTS, json!({"after": start.to_string()}))
        .await;

    let client = reqwest::Client::new();
    let post = |query: &'static str, variables: Value| {
        client
            .post(format!("{}/graphql", there.url))
            .bearer_auth(&token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
    };
    let opened: Value = post(
        "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }",
        json!({"input": {"slug": "elsewhere", "title": "Elsewhere"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let story = data(opened)["openStory"]["story"]["id"].clone();
    for i in 0..5 {
        let reported: Value = post(
            REPORT,
            json!({"story": story, "input": {"headline": format!("n{i}"), "occurredAt": "2024-01-01T00:00:00Z"}}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        data(reported);
    }
    let events = subscriber.events(6, WAIT).await;
    assert!(events.iter().all(|e| e["storyId"] == story));
    let versions: Vec<i64> = events
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
}

#[sqlx::test]
async fn killing_the_listen_connection_mid_stream_loses_no_event(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let story = open_story(&server, &token, "cut").await;
    let first = report(&server, &token, &story, "first").await;
    let mut subscriber = Subscriber::connect(&server.url, json!({})).await;
    subscriber
        .subscribe(
            "s",
            EVENTS,
            json!({"story": story, "after": first["position"]}),
        )
        .await;
    let listening = "SELECT pid FROM pg_stat_activity
                     WHERE datname = current_database() AND query ILIKE 'LISTEN%'";
    let mut listener: Vec<i32> = Vec::new();
    for _ in 0..100 {
        listener = sqlx::query_scalar(listening)
            .fetch_all(server.store.pool())
            .await
            .unwrap();
        if !listener.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listener.len(), 1, "one LISTEN connection");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(listener[0])
        .fetch_one(server.store.pool())
        .await
        .unwrap();
    assert!(killed);
    for i in 0..10 {
        report(&server, &token, &story, &format!("after the cut {i}")).await;
    }
    let events = subscriber.events(10, WAIT).await;
    let versions: Vec<i64> = events
        .iter()
        .map(|e| e["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, (3..=12).collect::<Vec<_>>());
}

/// A development whose payload makes each delivered message large.
fn bulky(headline: &str) -> NewEvent {
    let mut reported = common::reported(headline);
    reported.summary = Some("x".repeat(4_000));
    NewEvent::from_event(
        &storyline::domain::events::StoryEvent::DevelopmentReported(reported),
        Some(common::july_13()),
    )
}

#[sqlx::test]
async fn a_subscriber_that_never_reads_delays_no_one_and_is_told_to_resume(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let story = StoryId::generate();
    server
        .store
        .append(
            story,
            None,
            &[common::opening("flood")],
            &common::by_tester(),
        )
        .await
        .unwrap();
    let start = server.store.settled_head().await.unwrap();
    let query =
        "subscription($after: String) { events(afterPosition: $after) { position payload } }";
    let mut stalled = Subscriber::connect(&server.url, json!({})).await;
    stalled
        .subscribe("stalled", query, json!({"after": start.to_string()}))
        .await;
    let mut reader = Subscriber::connect(&server.url, json!({})).await;
    reader
        .subscribe("reader", query, json!({"after": start.to_string()}))
        .await;

    // Three times what the live ring holds, each message over 4 kB: some
    // 50 MB, far more than the stalled socket's buffers (kernel and
    // WebSocket) take, so its subscription must fall a whole ring behind.
    let total = storyline::store::LIVE_BUFFER * 3;
    let appender = {
        let store = server.store.clone();
        tokio::spawn(async move {
            for chunk in 0..total.div_ceil(500) {
                let n = 500.min(total - chunk * 500);
                let events: Vec<NewEvent> =
                    (0..n).map(|i| bulky(&format!("c{chunk} n{i}"))).collect();
                store
                    .append(story, None, &events, &common::by_tester())
                    .await
                    .unwrap();
            }
        })
    };
    let mut last = 0;
    for _ in 0..total {
        let message = tokio::time::timeout(WAIT, reader.message())
            .await
            .expect("the reader is not held up")
            .expect("open");
        assert_eq!(message["type"], "next", "{message}");
        let p = position(&message["payload"]["data"]["events"]);
        assert!(p > last);
        last = p;
    }
    appender.await.unwrap();

    // The stalled subscriber, read at last: some events, then the error
    // that names where to resume.
    let mut delivered = 0;
    let resume = loop {
        let message = tokio::time::timeout(WAIT, stalled.message())
            .await
            .expect("an answer")
            .expect("open");
        if message["type"] == "next" && message["payload"].get("errors").is_none() {
            delivered += 1;
            continue;
        }
        break message;
    };
    assert!(delivered < total, "it fell behind");
    let error = &resume["payload"]["errors"][0]["extensions"];
    assert_eq!(error["code"], "RESUME_REQUIRED", "{resume}");
    assert!(error["resumeAfterPosition"]
        .as_str()
        .is_some_and(|p| p.parse::<i64>().is_ok()));
}

#[sqlx::test]
async fn mutations_over_the_socket_need_the_token_in_connection_init(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let open = "mutation { openStory(input: {slug: \"by-socket\", title: \"By socket\"}) { story { slug } } }";
    let mut anonymous = Subscriber::connect(&server.url, json!({})).await;
    anonymous.subscribe("m", open, json!({})).await;
    let refused = anonymous.message().await.expect("an answer");
    assert_eq!(
        error_code(&refused["payload"]),
        "UNAUTHENTICATED",
        "{refused}"
    );

    let mut trusted = Subscriber::connect(&server.url, json!({"token": token})).await;
    trusted.subscribe("m", open, json!({})).await;
    let opened = trusted.message().await.expect("an answer");
    assert_eq!(
        opened["payload"]["data"]["openStory"]["story"]["slug"], "by-socket",
        "{opened}"
    );
}

#[sqlx::test]
async fn sigterm_completes_subscriptions_closes_sockets_and_exits_cleanly(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // The test's own pool only creates the schema the binary migrates.
    let _ = pool;
    let mut server = start_binary(&connect).await;
    let mut subscriber = Subscriber::connect(&server.url, json!({})).await;
    subscriber.subscribe("s", EVENTS, json!({})).await;
    // Give the subscription a moment to be in place before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = server.child.id().to_string();
    let signalled = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(signalled.success());

    let complete = tokio::time::timeout(WAIT, subscriber.message())
        .await
        .expect("an answer before the socket closes");
    assert_eq!(complete.expect("a message")["type"], "complete");
    let closed = tokio::time::timeout(WAIT, subscriber.message())
        .await
        .expect("closed in time");
    assert!(closed.is_none(), "the socket closes: {closed:?}");
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

#[sqlx::test]
async fn a_peer_that_answers_no_pings_is_disconnected_and_one_that_does_stays(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 20).await;
    let server = spawn_server_with(store, |state| {
        state.ws_ping = Duration::from_millis(200);
    })
    .await;
    let token = server.token("desk").await;
    let mut silent = Subscriber::connect(&server.url, json!({})).await;
    let mut lively = Subscriber::connect(&server.url, json!({})).await;
    // Reading is what answers pings; `lively` reads for ten ping
    // intervals, `silent` reads nothing.
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    while tokio::time::Instant::now() < until {
        let _ = tokio::time::timeout(Duration::from_millis(50), lively.message()).await;
    }
    let closed =
        tokio::time::timeout(WAIT, async { while silent.message().await.is_some() {} }).await;
    assert!(closed.is_ok(), "the silent peer's socket was closed");

    let story = open_story(&server, &token, "still-here").await;
    lively
        .subscribe("s", EVENTS, json!({"story": story, "after": "0"}))
        .await;
    let events = lively.events(1, WAIT).await;
    assert_eq!(
        events[0]["version"], 1,
        "the answering peer is still served"
    );
}
