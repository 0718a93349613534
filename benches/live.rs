//! Live delivery latency: from a mutation's response to the event's receipt
//! by WebSocket subscribers.
//!
//!     cargo bench --bench live
//!
//! Starts the release binary (`storyline serve`) on a fresh database
//! (`BENCH_DATABASE_URL`, default
//! postgres://postgres@127.0.0.1:5432/storyline_bench_live), connects
//! `BENCH_SUBSCRIBERS` (default 1,000) graphql-transport-ws subscribers,
//! then appends `BENCH_RATE` (default 200) reportDevelopment mutations a
//! second over HTTP for `BENCH_SECONDS` (default 10), spread over
//! `BENCH_STORIES` (default 100) stories. Each subscriber takes the events of
//! one story; with `BENCH_WHOLE_FEED=1` every subscriber takes the whole
//! feed (then every append goes to every subscriber). Prints p50/p99
//! of the delay between the mutation's response and each receipt (an event
//! that arrives before its response counts as 0), and the server's peak
//! resident memory. Targets: p99 ≤ 100 ms, memory ≤ 300 MB.
//!
//! Subscribers, appender and server share the machine's cores.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline_bench_live";
const LISTEN: &str = "127.0.0.1:18082";

/// When each event's mutation answered, by event id.
type Answered = Arc<Mutex<HashMap<String, Instant>>>;

/// Each receipt: event id and when it came.
type Received = Arc<Mutex<Vec<(String, Instant)>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = common::env_number("BENCH_SECONDS", 10);
    let subscribers: usize = common::env_number("BENCH_SUBSCRIBERS", 1_000);
    let rate: u64 = common::env_number("BENCH_RATE", 200);
    let story_count: usize = common::env_number("BENCH_STORIES", 100).max(1);
    let whole_feed = common::env_number("BENCH_WHOLE_FEED", 0u8) == 1;
    let (url, store) = common::fresh_store(DEFAULT_URL, 16).await?;
    let token = store
        .create_token("bench", storyline::store::Scope::Write)
        .await?;
    store.close().await;

    let server = common::start_server(env!("CARGO_BIN_EXE_storyline"), &url, LISTEN).await?;
    let client = reqwest::Client::builder().build()?;
    let base = format!("http://{LISTEN}");
    let api = format!("{base}/graphql");

    let mut stories = Vec::new();
    for i in 0..story_count {
        let opened = common::post_graphql(&client, &api, Some(&token), &json!({
            "query": "mutation($input: OpenStoryInput!) { openStory(input: $input) { story { id } } }",
            "variables": {"input": {"slug": format!("live-{i}"), "title": "Live bench"}}
        }))
        .await?;
        stories.push(opened["data"]["openStory"]["story"]["id"].clone());
    }

    let received: Received = Arc::new(Mutex::new(Vec::new()));
    let mut sockets = Vec::with_capacity(subscribers);
    for i in 0..subscribers {
        let story = (!whole_feed).then(|| stories[i % stories.len()].clone());
        sockets.push(subscribe(&base, story, received.clone()).await?);
    }
    // Let every subscription reach the live feed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let per_event = if whole_feed {
        subscribers as f64
    } else {
        subscribers as f64 / stories.len() as f64
    };
    println!(
        "storyline live bench: {subscribers} subscribers ({}), {rate} appends/s for {seconds} s",
        if story_count > 0 {
            format!(
                "{} stories, ~{per_event:.0} subscribers per event",
                stories.len()
            )
        } else {
            "each on the whole feed".to_owned()
        }
    );

    let answered: Answered = Arc::new(Mutex::new(HashMap::new()));
    let appends = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut inflight = Vec::new();
    for n in 0..appends {
        ticker.tick().await;
        let (client, api, token, answered) =
            (client.clone(), api.clone(), token.clone(), answered.clone());
        let story = stories[n as usize % stories.len()].clone();
        inflight.push(tokio::spawn(async move {
            let body = json!({
                "query": "mutation($story: UUID!, $input: DevelopmentInput!) {
                    reportDevelopment(storyId: $story, input: $input) { events { id } } }",
                "variables": {"story": story, "input": {"headline": format!("n{n}"),
                              "occurredAt": "2024-01-01T00:00:00Z"}}
            });
            let response = common::post_graphql(&client, &api, Some(&token), &body).await?;
            let at = Instant::now();
            if let Some(id) = response["data"]["reportDevelopment"]["events"][0]["id"].as_str() {
                answered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.to_owned(), at);
            }
            anyhow::Ok(())
        }));
    }
    for task in inflight {
        task.await??;
    }
    let expected_receipts = (appends as f64 * per_event).round() as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap_or_else(|e| e.into_inner()).len() < expected_receipts
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak_memory = peak_rss_mib(server.0.id());
    drop(sockets);

    let answered = answered.lock().unwrap_or_else(|e| e.into_inner());
    let received = received.lock().unwrap_or_else(|e| e.into_inner());
    let mut delays: Vec<Duration> = received
        .iter()
        .filter_map(|(id, at)| {
            answered
                .get(id)
                .map(|sent| at.saturating_duration_since(*sent))
        })
        .collect();
    delays.sort_unstable();
    let at = |q: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * q) as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1_000.0)
    };
    println!();
    println!(
        "receipts {} of {expected_receipts}; delay after the mutation's response: p50 {:.1} ms, \
         p99 {:.1} ms (target ≤ 100 ms: {}), max {:.1} ms",
        delays.len(),
        at(0.5),
        at(0.99),
        if at(0.99) <= 100.0 { "ok" } else { "NOT MET" },
        at(1.0)
    );
    match peak_memory {
        Some(mib) => println!(
            "server peak resident memory: {mib:.0} MiB (target ≤ 300 MB: {})",
            if mib * 1.048_576 <= 300.0 {
                "ok"
            } else {
                "NOT MET"
            }
        ),
        None => println!("server peak resident memory: unknown (no /proc)"),
    }
    Ok(())
}

/// One subscriber on its own socket; records each event id it receives.
async fn subscribe(
    base: &str,
    story: Option<Value>,
    received: Received,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut request =
        format!("{}/graphql", base.replacen("http", "ws", 1)).into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await?;
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($story: UUID) { events(storyId: $story) { id } }",
        "variables": {"story": story}}});
    socket.send(Message::text(subscribe.to_string())).await?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let at = Instant::now();
            // {"type":"next","id":"1","payload":{"data":{"events":{"id":"…"}}}}
            if let Some(id) = text
                .split("\"events\":{\"id\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            {
                received
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((id.to_owned(), at));
            }
        }
    }))
}

/// The peak resident set of a process (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
