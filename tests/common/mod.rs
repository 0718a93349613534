//! Helpers shared by the integration tests. Every test gets its own database
//! from `#[sqlx::test]`; nothing here touches the dev database.
#![allow(dead_code)]

pub mod cluster;
pub mod ws;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::events::{DevelopmentReported, StoryEvent, StoryOpened};
use storyline::domain::StoryId;
use storyline::store::{EventMetadata, NewEvent, Store};

/// The URL of `database` on the server `connect` reaches (for the binary,
/// or a second database beside the test's own).
pub fn database_url(connect: &PgConnectOptions, database: &str) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        connect.get_username(),
        connect.get_host(),
        connect.get_port(),
        database
    )
}

/// The URL of the test's own database.
pub fn test_database_url(connect: &PgConnectOptions) -> String {
    database_url(
        connect,
        connect
            .get_database()
            .expect("sqlx::test names its database"),
    )
}

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
        visibility: None,
        embargo_until: None,
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

/// Awaits spawned tasks in order, failing the test if one panicked. Every
/// task is spawned before the first is awaited, so a lazy iterator of
/// `tokio::spawn`s still runs them side by side.
pub async fn join_all<T>(handles: impl IntoIterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let handles: Vec<_> = handles.into_iter().collect();
    let mut results = Vec::new();
    for handle in handles {
        results.push(handle.await.expect("task did not panic"));
    }
    results
}

/// The real server (router, GraphQL, limits) on a random local port. It
/// stops when dropped, letting go of its connections so that the test's
/// database can be dropped.
pub struct TestServer {
    pub url: String,
    pub store: Store,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn spawn_server(store: Store) -> TestServer {
    spawn_server_with(store, |_| {}).await
}

/// [`spawn_server`] with settings changed by `configure`.
pub async fn spawn_server_with(
    store: Store,
    configure: impl FnOnce(&mut storyline::http::AppState),
) -> TestServer {
    let mut state = storyline::http::AppState::new(store.clone());
    configure(&mut state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        storyline::http::serve_until(listener, state, async move {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    TestServer {
        url: format!("http://{address}"),
        store,
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

impl TestServer {
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    /// POSTs a GraphQL request, with a bearer token when given; the JSON
    /// response, whatever its status.
    pub async fn post(
        &self,
        token: Option<&str>,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let mut request = self
            .client
            .post(self.graphql_url())
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("server answers");
        response.json().await.expect("JSON response")
    }

    /// A query without a token.
    pub async fn query(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        self.post(None, query, variables).await
    }

    /// A fresh live token.
    pub async fn token(&self, name: &str) -> String {
        self.store
            .create_token(name, storyline::store::Scope::Write)
            .await
            .expect("token created")
    }

    /// A fresh live token of `scope`.
    pub async fn store_token(&self, name: &str, scope: storyline::store::Scope) -> String {
        self.store
            .create_token(name, scope)
            .await
            .expect("token created")
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("/metrics answers")
            .text()
            .await
            .expect("a text")
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// `data` of a response that must have no errors.
pub fn data(response: serde_json::Value) -> serde_json::Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response}"
    );
    response["data"].clone()
}

/// The code of the first error of a response that must have one.
pub fn error_code(response: &serde_json::Value) -> String {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error with a code expected: {response}"))
        .to_owned()
}

/// Runs `node <script> <args…>` in tests/http-audit (off the runtime that
/// serves its requests) and returns its standard output, failing the test
/// with both outputs when it exits non-zero.
pub async fn run_node(script: &str, args: Vec<String>) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/http-audit");
    assert!(
        std::path::Path::new(dir).join("node_modules").exists(),
        "run `npm ci --prefix tests/http-audit` (./scripts/test does)"
    );
    let script = script.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(dir)
            .output()
    })
    .await
    .expect("node's task")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
