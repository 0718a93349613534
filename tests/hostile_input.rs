//! Input sent to hurt: each defect found by probing the server as an
//! attacker would, over real HTTP and WebSocket, refused with the
//! contract's code, writing nothing and leaving every read working.

mod common;

use std::time::Duration;

use common::ws::Subscriber;
use common::{data, error_code, spawn_server, spawn_server_with, store_with, TestServer};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Connection;
use storyline::domain::events::StoryEvent;
use storyline::domain::model::QuoteInput;
use storyline::domain::StoryId;
use storyline::store::{NewEvent, Store};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// Long enough for any honest answer on a loaded machine; a request that
/// takes longer has hung, which is the defect.
const HANG: Duration = Duration::from_secs(60);

async fn server_on(pool: PgPoolOptions, connect: PgConnectOptions) -> TestServer {
    spawn_server(store_with(pool, connect, 8).await).await
}

async fn open_story(server: &TestServer, token: &str) -> String {
    let opened = server
        .post(
            Some(token),
            "mutation { openStory(input: {slug: \"probe\", title: \"Probe\"}) { story { id } } }",
            json!({}),
        )
        .await;
    data(opened)["openStory"]["story"]["id"]
        .as_str()
        .expect("story id")
        .to_owned()
}

async fn report(server: &TestServer, token: &str, story: &str, input: Value) -> Value {
    server
        .post(
            Some(token),
            "mutation($story: UUID!, $input: DevelopmentInput!) {
                reportDevelopment(storyId: $story, input: $input) { story { version } } }",
            json!({"story": story, "input": input}),
        )
        .await
}

async fn version(server: &TestServer) -> i64 {
    let answer = server
        .query(
            "{ story(slug: \"probe\") { version snapshot { figures { value } } } }",
            json!({}),
        )
        .await;
    data(answer)["story"]["version"].as_i64().expect("version")
}

#[sqlx::test]
async fn a_fragment_bomb_is_refused_as_invalid_at_once(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    // 30 fragments, each spreading the one before twice: 1.2 KB that
    // expand to 2^29 fields.
    let mut bomb = String::from("query { ...F29 }\nfragment F0 on Query { __typename }\n");
    for n in 1..30 {
        bomb.push_str(&format!(
            "fragment F{n} on Query {{ ...F{p} ...F{p} }}\n",
            p = n - 1
        ));
    }
    let refused = tokio::time::timeout(HANG, server.query(&bomb, json!({})))
        .await
        .expect("the bomb is answered, not worked through");
    assert_eq!(
        error_code(&refused),
        "GRAPHQL_VALIDATION_FAILED",
        "{refused}"
    );
    let health = server
        .client()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[sqlx::test]
async fn ten_thousand_unused_variables_get_one_short_error(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let declared: Vec<String> = (0..10_000).map(|n| format!("$v{n}: Int")).collect();
    let query = format!("query ({}) {{ __typename }}", declared.join(", "));
    let answer = server
        .client()
        .post(server.graphql_url())
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(answer.len() < 2_000, "{} bytes of errors", answer.len());
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(error_code(&answer), "GRAPHQL_VALIDATION_FAILED", "{answer}");
    assert_eq!(answer["errors"].as_array().map(Vec::len), Some(1));
}

#[sqlx::test]
async fn a_nul_character_anywhere_is_bad_input_and_writes_nothing(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("probe").await;
    let story = open_story(&server, &token).await;
    let before = version(&server).await;
    for (query, variables) in [
        ("{ story(slug: \"pro\\u0000be\") { id } }", json!({})),
        (
            "query($a: String) { stories(actor: $a) { totalCount } }",
            json!({"a": "Tali\u{0}ban"}),
        ),
        (
            "query($s: String) { stories(search: $s) { totalCount } }",
            json!({"s": "air\u{0}port"}),
        ),
    ] {
        let refused = server.query(query, variables).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{query}: {refused}");
    }
    for input in [
        json!({"headline": "Deal\u{0}struck", "occurredAt": "2021-07-13T00:00:00Z"}),
        json!({"headline": "Deal", "occurredAt": "2021-07-13T00:00:00Z",
               "actors": [{"name": "Tali\u{0}ban", "kind": "GROUP"}]}),
        json!({"headline": "Deal", "occurredAt": "2021-07-13T00:00:00Z", "tags": ["a\u{0}b"]}),
    ] {
        let refused = report(&server, &token, &story, input).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    }
    assert_eq!(version(&server).await, before, "nothing was appended");
}

#[sqlx::test]
async fn numbers_and_dates_the_database_cannot_give_back_are_refused(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("probe").await;
    let story = open_story(&server, &token).await;
    let before = version(&server).await;
    for input in [
        json!({"headline": "Toll", "occurredAt": "2021-07-13T00:00:00Z",
               "figures": [{"metric": "killed", "value": 1.7976931348623157e308}]}),
        json!({"headline": "Toll", "occurredAt": "2021-07-13T00:00:00Z",
               "figures": [{"metric": "killed", "value": -1e16}]}),
        json!({"headline": "Old", "occurredAt": "0000-07-01T00:00:00Z"}),
        json!({"headline": "Older", "occurredAt": "-0044-03-15T00:00:00Z"}),
    ] {
        let refused = report(&server, &token, &story, input).await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{refused}");
    }
    assert_eq!(version(&server).await, before, "nothing was appended");
    let kept = report(
        &server,
        &token,
        &story,
        json!({"headline": "Toll", "occurredAt": "2021-07-13T00:00:00Z",
               "figures": [{"metric": "displaced", "value": 1e15}]}),
    )
    .await;
    assert!(kept.get("errors").is_none(), "{kept}");
    let read = server
        .query(
            "{ story(slug: \"probe\") { snapshot { figures { value } } history { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(read)["story"]["snapshot"]["figures"][0]["value"], 1e15);
}

#[sqlx::test]
async fn a_body_of_8_mib_gets_413_rather_than_a_reset(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let huge = format!(
        "{{\"query\": \"{{ __typename }}\", \"pad\": \"{}\"}}",
        "x".repeat(8 * 1024 * 1024)
    );
    let response = server
        .client()
        .post(server.graphql_url())
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("an answer, not a reset");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("1 MiB")));
}

#[sqlx::test]
async fn metrics_speak_prometheus_text_unless_openmetrics_is_asked_for(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let metrics = format!("{}/metrics", server.url);
    let plain = server.client().get(&metrics).send().await.unwrap();
    assert_eq!(
        plain.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(!plain.text().await.unwrap().contains("# EOF"));
    let scraped = server
        .client()
        .get(&metrics)
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert!(scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(scraped.text().await.unwrap().ends_with("# EOF\n"));
}

#[sqlx::test]
async fn a_socket_that_never_sends_connection_init_is_closed_with_4408(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 4).await;
    let server = spawn_server_with(store, |state| {
        state.ws_init_timeout = Duration::from_millis(300);
    })
    .await;
    let url = format!("{}/graphql", server.url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let closed = tokio::time::timeout(HANG, async {
        while let Some(message) = socket.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await
    .expect("the socket is closed, not kept");
    assert_eq!(closed, Some(4408));
}

#[sqlx::test]
async fn an_unknown_enum_written_in_the_document_is_invalid_and_one_sent_as_a_variable_is_bad_input(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let written = server
        .query("{ stories(status: FINISHED) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        error_code(&written),
        "GRAPHQL_VALIDATION_FAILED",
        "{written}"
    );
    let sent = server
        .query(
            "query($s: StoryStatus) { stories(status: $s) { totalCount } }",
            json!({"s": "FINISHED"}),
        )
        .await;
    assert_eq!(error_code(&sent), "BAD_USER_INPUT", "{sent}");
    let in_an_object = server
        .query(
            "query($s: UUID!) { story(id: $s) { history(types: [\"StoryOpened\"]) { totalCount } } }",
            json!({"s": "not-a-uuid"}),
        )
        .await;
    assert_eq!(
        error_code(&in_an_object),
        "BAD_USER_INPUT",
        "{in_an_object}"
    );
}

#[sqlx::test]
async fn a_lock_held_on_the_snapshot_is_answered_unavailable_within_the_timeout(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // What `serve` sets up from STORYLINE_REQUEST_TIMEOUT, at one second.
    let bounded = connect
        .clone()
        .options([("statement_timeout", "1000"), ("lock_timeout", "1000")]);
    let store = store_with(pool, bounded, 4).await;
    let server = spawn_server_with(store, |state| {
        state.request_timeout = Duration::from_secs(3);
    })
    .await;
    let token = server.token("probe").await;
    let story = open_story(&server, &token).await;

    let mut holder = sqlx::PgConnection::connect_with(&connect).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE stories IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();

    let read = tokio::time::timeout(
        HANG,
        server.query("{ story(slug: \"probe\") { version } }", json!({})),
    )
    .await
    .expect("answered, not held as long as the lock");
    assert_eq!(error_code(&read), "UNAVAILABLE", "{read}");
    assert_eq!(read["errors"][0]["extensions"]["retryAfterSeconds"], 1);
    let write = tokio::time::timeout(
        HANG,
        report(
            &server,
            &token,
            &story,
            json!({"headline": "Held", "occurredAt": "2021-07-13T00:00:00Z"}),
        ),
    )
    .await
    .expect("answered, not held as long as the lock");
    assert_eq!(error_code(&write), "UNAVAILABLE", "{write}");
    let message = write["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("same eventId"), "{message}");

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(
        version(&server).await,
        1,
        "the refused report wrote nothing"
    );
}

#[sqlx::test]
async fn a_peer_slow_to_send_its_headers_is_cut_off_and_past_the_cap_one_gets_503(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let store = store_with(pool, connect, 4).await;
    let server = spawn_server_with(store, |state| {
        state.connections = storyline::http::ConnectionLimits {
            open: 3,
            header_read: Duration::from_millis(500),
        };
    })
    .await;
    let address = server.url.trim_start_matches("http://").to_owned();

    // Slowloris: half a request line, then nothing.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(HANG, slow.read(&mut buffer))
        .await
        .expect("the server cuts the peer off");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed: {read:?}"
    );

    // An idle kept-alive connection is closed the same way.
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    let read = tokio::time::timeout(HANG, idle.read(&mut buffer))
        .await
        .expect("the server closes an idle connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed: {read:?}"
    );

    // Three held open (each sends a byte now and then, slower than the
    // cap refuses), the fourth is told 503.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
        tcp.write_all(b"G").await.unwrap();
        held.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut refused = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(HANG, refused.read_to_string(&mut answer))
        .await
        .expect("answered at once")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let health = server
        .client()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "served again once connections closed");
}

#[sqlx::test]
async fn readiness_tells_a_busy_pool_from_an_unreachable_database(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool.acquire_timeout(Duration::from_secs(1)), connect, 2).await;
    let server = spawn_server(store.clone()).await;
    let ready = server
        .client()
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let held = [
        store.pool().acquire().await.unwrap(),
        store.pool().acquire().await.unwrap(),
    ];
    let busy = server
        .client()
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.text().await.unwrap(), "pool exhausted");
    drop(held);
}

#[sqlx::test]
async fn a_fragment_bomb_over_the_socket_is_refused_as_invalid(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let mut bomb =
        String::from("subscription { ...F29 }\nfragment F0 on Subscription { events { id } }\n");
    for n in 1..30 {
        bomb.push_str(&format!(
            "fragment F{n} on Subscription {{ ...F{p} ...F{p} }}\n",
            p = n - 1
        ));
    }
    let mut socket = common::ws::Subscriber::connect(&server.url, json!({})).await;
    socket.subscribe("bomb", &bomb, json!({})).await;
    let answer = tokio::time::timeout(HANG, socket.message())
        .await
        .expect("answered, not worked through")
        .expect("a message");
    // Refused before execution, it comes as the stream's one answer.
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{answer}"
    );
}

/// A chain of fragments each spreading the next, and selections nested by
/// inline fragments: both within 1 MiB, both walked recursively by every
/// check; refused before they are, on HTTP and on the socket.
fn deep_documents() -> Vec<(&'static str, String)> {
    let mut chain = String::from("query { ...F0 }\n");
    for n in 0..4_000 {
        chain.push_str(&format!("fragment F{n} on Query {{ ...F{} }}\n", n + 1));
    }
    chain.push_str("fragment F4000 on Query { __typename }\n");
    let nested = format!(
        "query {{ {} __typename {} }}",
        "... on Query { ".repeat(20_000),
        "}".repeat(20_000)
    );
    let fields = format!(
        "query {{ {} __typename {} }}",
        "story(slug: \"x\") { ".repeat(5_000),
        "}".repeat(5_000)
    );
    vec![
        ("a chain of 4,000 fragments", chain),
        ("20,000 nested inline fragments", nested),
        ("5,000 nested fields", fields),
    ]
}

#[sqlx::test]
async fn deeply_nested_documents_are_refused_and_the_process_lives(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    for (shape, document) in deep_documents() {
        assert!(document.len() < 1024 * 1024, "{shape} fits a request");
        let refused = server.query(&document, json!({})).await;
        let code = error_code(&refused);
        assert!(
            code == "GRAPHQL_VALIDATION_FAILED" || code == "GRAPHQL_PARSE_FAILED",
            "{shape}: {refused}"
        );
        let mut socket = Subscriber::connect(&server.url, json!({})).await;
        socket
            .subscribe(
                "deep",
                &document.replacen("query", "subscription", 1),
                json!({}),
            )
            .await;
        let answer = socket.message().await.expect("an answer on the socket");
        assert!(
            answer.to_string().contains("errors") || answer["type"] == "error",
            "{shape}: {answer}"
        );
        let health = server
            .client()
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{shape}: the process lives");
    }
}

#[sqlx::test]
async fn made_up_root_fields_never_become_metric_labels(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    for n in 0..50 {
        let name = format!("madeUp{n}{}", "x".repeat(100_000));
        let refused = server.query(&format!("{{ {name} }}"), json!({})).await;
        assert_eq!(error_code(&refused), "GRAPHQL_VALIDATION_FAILED");
    }
    let metrics = server.metrics().await;
    assert!(!metrics.contains("madeUp"), "a made-up name is a label");
    assert!(
        metrics.len() < 64 * 1024,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(metrics.contains("operation=\"invalid\""));
}

#[sqlx::test]
async fn a_source_url_that_is_not_http_or_https_is_refused_and_nothing_is_stored(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let opened = data(
        server
            .post(
                Some(&token),
                "mutation { openStory(input: {slug: \"links\", title: \"Links\"}) { story { id } } }",
                json!({}),
            )
            .await,
    );
    let story = opened["openStory"]["story"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for url in [
        "javascript:alert(document.cookie)",
        "  JaVaScRiPt:alert(1)",
        "data:text/html,<script>x</script>",
        "vbscript:x",
        "file:///etc/passwd",
    ] {
        let refused = server
            .post(
                Some(&token),
                "mutation($s: UUID!, $input: DevelopmentInput!) { reportDevelopment(storyId: $s, input: $input) { story { version } } }",
                json!({"s": story, "input": {"headline": "h", "occurredAt": "2024-03-07T00:00:00Z",
                    "sources": [{"name": "Wire", "url": url}]}}),
            )
            .await;
        assert_eq!(error_code(&refused), "BAD_USER_INPUT", "{url}: {refused}");
    }
    let version = data(
        server
            .post(
                Some(&token),
                "query($s: UUID!) { story(id: $s) { version } }",
                json!({"s": story}),
            )
            .await,
    );
    assert_eq!(version["story"]["version"], 1, "nothing was appended");
}

#[sqlx::test]
async fn upgraded_sockets_count_toward_the_open_connection_cap(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let store = store_with(pool, connect, 4).await;
    let server = spawn_server_with(store, |state| {
        state.connections.open = 3;
    })
    .await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(Subscriber::connect(&server.url, json!({})).await);
    }
    // Three sockets hold every place: a request and a fourth socket wait
    // for none and get 503.
    let refused = reqwest::Client::new()
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert!(matches!(refused, Ok(503) | Err(_)), "{refused:?}");
    let url = format!("{}/graphql", server.url.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    assert!(
        tokio_tungstenite::connect_async(request).await.is_err(),
        "a fourth socket is refused"
    );
    // A socket closed gives its place back.
    drop(sockets.pop());
    let mut answered = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if let Ok(response) = reqwest::Client::new()
            .get(format!("{}/healthz", server.url))
            .send()
            .await
        {
            if response.status() == 200 {
                answered = Some(200);
                break;
            }
        }
    }
    assert_eq!(answered, Some(200));
}

#[sqlx::test]
async fn a_malformed_authorization_or_init_token_is_unauthenticated_not_anonymous(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "sl_abc", "Bearer two words"] {
        let answer: Value = server
            .client()
            .post(server.graphql_url())
            .header("authorization", header)
            .json(&json!({"query": "{ __typename }"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(error_code(&answer), "UNAUTHENTICATED", "{header}: {answer}");
    }
    for init in [
        json!({"token": 42}),
        json!({"token": {"a": 1}}),
        json!({"token": ""}),
    ] {
        assert!(
            Subscriber::refused(&server.url, init.clone()).await,
            "{init}"
        );
    }
}

#[sqlx::test]
async fn a_socket_whose_token_is_revoked_is_closed_with_its_subscriptions(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("desk").await;
    let mut socket = Subscriber::connect(&server.url, json!({"token": token})).await;
    socket
        .subscribe("live", "subscription { events { id } }", json!({}))
        .await;
    server.store.revoke_token("desk").await.unwrap();
    // The socket ends: closed with 4403 rather than left streaming.
    let mut closed = false;
    for _ in 0..100 {
        if let Ok(None) = tokio::time::timeout(Duration::from_millis(100), socket.message()).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "the socket of a revoked token was left open");
}

#[sqlx::test]
async fn anonymous_readers_do_not_see_who_appended(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = server_on(pool, connect).await;
    let token = server.token("night-desk").await;
    data(
        server
            .post(
                Some(&token),
                "mutation { openStory(input: {slug: \"who\", title: \"Who\"}) { story { id } } }",
                json!({}),
            )
            .await,
    );
    // The story's history, which holds nothing back (the global feed waits
    // for older transactions of the cluster to end).
    let query = "{ story(slug: \"who\") { history(first: 5) { nodes { metadata } } } }";
    let anonymous = data(server.query(query, json!({})).await);
    let metadata = &anonymous["story"]["history"]["nodes"][0]["metadata"];
    assert!(
        metadata.is_object() && metadata.get("principal").is_none(),
        "{metadata}"
    );
    let holder = data(server.post(Some(&token), query, json!({})).await);
    assert_eq!(
        holder["story"]["history"]["nodes"][0]["metadata"]["principal"],
        "night-desk"
    );
}

#[sqlx::test]
async fn the_socket_protocol_closes_with_its_codes(pool: PgPoolOptions, connect: PgConnectOptions) {
    let server = server_on(pool, connect).await;
    // Subscribe before connection_init: 4401.
    let mut early = Subscriber::open(&server.url).await;
    early
        .subscribe("a", "subscription { events { id } }", json!({}))
        .await;
    assert_eq!(
        tokio::time::timeout(HANG, early.close_code())
            .await
            .ok()
            .flatten(),
        Some(4401)
    );
    // The same id twice while the first runs: 4409.
    let mut twice = Subscriber::connect(&server.url, json!({})).await;
    twice
        .subscribe("a", "subscription { events { id } }", json!({}))
        .await;
    twice
        .subscribe("a", "subscription { events { id } }", json!({}))
        .await;
    assert_eq!(
        tokio::time::timeout(HANG, twice.close_code())
            .await
            .ok()
            .flatten(),
        Some(4409)
    );
    // A frame over 1 MiB: 1009.
    let mut big = Subscriber::connect(&server.url, json!({})).await;
    let huge = format!(
        "{{\"type\":\"ping\",\"payload\":{{\"x\":\"{}\"}}}}",
        "x".repeat(1024 * 1024 + 10)
    );
    big.send_frame(Message::text(huge)).await;
    assert_eq!(
        tokio::time::timeout(HANG, big.close_code())
            .await
            .ok()
            .flatten(),
        Some(1009)
    );
}

/// A PUBLIC story of 1,000 developments, each quoting two passages of
/// 4,000 characters: 8 MB of quotes.
async fn a_story_of_long_quotes(store: &Store) {
    let story = StoryId::generate();
    let mut events = vec![common::opening("long")];
    for n in 0..1_000 {
        let mut reported = common::reported(&format!("Development {n}"));
        reported.quotes = (0..2)
            .map(|q| QuoteInput {
                speaker: format!("Speaker {q}"),
                speaker_role: None,
                text: format!("{n} {q} ")
                    .repeat(4_000 / 6)
                    .chars()
                    .take(4_000)
                    .collect(),
            })
            .collect();
        let event = StoryEvent::DevelopmentReported(reported);
        events.push(NewEvent::from_event(&event, Some(common::july_13())));
    }
    store
        .append(story, None, &events, &common::by_tester())
        .await
        .expect("the long story is appended");
}

#[sqlx::test]
async fn aliased_snapshots_past_16_mib_get_one_error_instead_of_a_giant_body(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    a_story_of_long_quotes(&server.store).await;

    let one = server
        .query(
            "{ story(slug: \"long\") { snapshot { quotes { text } } } }",
            json!({}),
        )
        .await;
    let quotes = data(one)["story"]["snapshot"]["quotes"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(quotes, 2_000, "one snapshot of 8 MB is answered whole");

    let aliases: String = (0..150)
        .map(|n| format!("s{n}: snapshot {{ quotes {{ text }} }} "))
        .collect();
    let query = format!("{{ story(slug: \"long\") {{ {aliases} }} }}");
    assert!(query.len() < 10_000, "a request of {} bytes", query.len());
    let response = server
        .client()
        .post(server.graphql_url())
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("a body");
    assert!(body.len() < 4_096, "the answer is {} bytes", body.len());
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(error_code(&answer), "BAD_USER_INPUT", "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("16 MiB"), "{message}");

    // The same over the socket: one error, no data.
    let mut socket = Subscriber::connect(&server.url, json!({})).await;
    socket.subscribe("big", &query, json!({})).await;
    let answer = tokio::time::timeout(HANG, socket.message())
        .await
        .expect("answered")
        .expect("a message");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );
    assert_eq!(answer["payload"]["data"], Value::Null);
}

/// A query on the probe story selecting `count` aliased fields.
fn aliased_on_probe(count: usize, field: impl Fn(usize) -> String) -> String {
    let fields: Vec<String> = (0..count).map(field).collect();
    format!("{{ story(slug: \"probe\") {{ {} }} }}", fields.join(" "))
}

#[sqlx::test]
async fn aliases_of_replays_comparisons_and_counts_cost_what_they_do(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let server = server_on(pool, connect).await;
    let token = server.token("probe").await;
    open_story(&server, &token).await;

    // 490 comparisons of a story: refused before any runs.
    let changes = aliased_on_probe(490, |n| {
        format!(
            "c{n}: changes(from: \"2021-01-01T00:00:00Z\", to: \"2021-12-{:02}T00:00:00Z\") \
             {{ added {{ headline }} }}",
            n % 28 + 1
        )
    });
    let answer = server.query(&changes, json!({})).await;
    assert_eq!(error_code(&answer), "GRAPHQL_VALIDATION_FAILED", "{answer}");
    let replays = aliased_on_probe(60, |n| {
        format!(
            "r{n}: stateAt(at: \"2021-07-{:02}T00:00:00Z\") {{ title }}",
            n % 28 + 1
        )
    });
    let answer = server.query(&replays, json!({})).await;
    assert_eq!(error_code(&answer), "GRAPHQL_VALIDATION_FAILED", "{answer}");

    // 490 counts, each of a page of one: within the complexity limit, so
    // the budget refuses them as they run.
    let counts = aliased_on_probe(490, |n| {
        format!(
            "h{n}: history(first: 1, occurredFrom: \"2021-01-{:02}T00:00:00Z\") {{ totalCount }}",
            n % 28 + 1
        )
    });
    let answer = server.query(&counts, json!({})).await;
    assert_eq!(error_code(&answer), "BAD_USER_INPUT", "{answer}");
    assert_eq!(answer["data"], Value::Null, "{answer}");

    // What the desk asks stays well within: its story page, and a list of
    // 100 stories with their snapshots' titles.
    let answer = server
        .query(
            "{ story(slug: \"probe\") { a: history(first: 20) { totalCount } \
               b: stateAt(at: \"2021-07-13T00:00:00Z\") { title } snapshot { title } } \
               stories(first: 100) { totalCount nodes { snapshot { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(answer)["story"]["snapshot"]["title"], "Probe");
}

#[sqlx::test]
async fn a_query_on_a_socket_is_bound_by_the_request_timeout(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    // No statement timeout: only the request timeout can end the wait.
    let store = store_with(pool, connect.clone(), 4).await;
    let server = spawn_server_with(store, |state| {
        state.request_timeout = Duration::from_secs(1);
    })
    .await;
    let token = server.token("probe").await;
    open_story(&server, &token).await;

    let mut holder = sqlx::PgConnection::connect_with(&connect).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE stories IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();

    let mut socket = Subscriber::connect(&server.url, json!({})).await;
    socket
        .subscribe("held", "{ story(slug: \"probe\") { version } }", json!({}))
        .await;
    let answer = tokio::time::timeout(HANG, socket.message())
        .await
        .expect("answered while the lock is still held")
        .expect("a message");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{answer}"
    );
}
