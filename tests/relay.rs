//! The JetStream relay under load and through crashes: the `storyline
//! relay` binary killed with SIGKILL at random points and started again, a
//! second relay beside it, and a NATS server of the test's own restarted
//! once. The stream must end with exactly one message per event, in
//! position order, and a stale relay's publish must be refused.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::domain::StoryId;
use storyline::relay::POSITION_HEADER;

/// A NATS server with JetStream of the test's own, on a free port, its
/// store in a folder of its own.
struct Nats {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Nats {
    fn start() -> Nats {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("storyline-nats-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut nats = Nats {
            port,
            dir,
            child: None,
        };
        nats.run();
        nats
    }

    fn run(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (Debian's package)");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not listen");
    }

    fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.run();
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn relay(database_url: &str, nats: &str, stream: &str, subject: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args([
            "relay",
            "--nats",
            nats,
            "--stream",
            stream,
            "--subject",
            subject,
        ])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the relay starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A metric's value in a /metrics text (0 when absent).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

fn kill_9(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[sqlx::test]
async fn every_event_reaches_the_stream_once_in_order_through_kills_and_a_nats_restart(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let database_url = common::test_database_url(&connect);
    let store = common::store_with(pool, connect, 8).await;
    let mut nats = Nats::start();
    let stream_name = format!("TEST_{}", uuid::Uuid::now_v7().simple());
    let subject = format!("test.{}", uuid::Uuid::now_v7().simple());

    // 100 stories of 100 events each, appended ten at a time by 8 writers
    // while the relays run.
    let stories: Vec<StoryId> = futures_util::future::join_all((0..100).map(|_| {
        let store = store.clone();
        async move { common::opened_story(&store).await }
    }))
    .await;
    let writers: Vec<_> = stories
        .chunks(stories.len() / 8 + 1)
        .map(|chunk| {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            tokio::spawn(async move {
                for round in 0..10 {
                    for &story in &chunk {
                        let events: Vec<_> = (0..10)
                            .map(|n| common::development(&format!("round {round}, report {n}")))
                            .collect();
                        store
                            .append(story, None, &events, &common::by_tester())
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();

    let mut first = relay(&database_url, &nats.url(), &stream_name, &subject);
    let mut second = relay(&database_url, &nats.url(), &stream_name, &subject);
    // Kill one or the other at varied points, and restart NATS once.
    for round in 0..8u64 {
        tokio::time::sleep(Duration::from_millis(150 + (round * 97) % 300)).await;
        if round % 2 == 0 {
            kill_9(&mut first);
            first = relay(&database_url, &nats.url(), &stream_name, &subject);
        } else {
            kill_9(&mut second);
            second = relay(&database_url, &nats.url(), &stream_name, &subject);
        }
        if round == 4 {
            nats.restart();
        }
    }
    common::join_all(writers).await;
    let total = 100 + 100 * 100;

    // Wait until the stream holds every event.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = jetstream::new(client);
    let mut last = 0;
    for _ in 0..600 {
        if let Ok(mut stream) = js.get_stream(&stream_name).await {
            if let Ok(info) = stream.info().await {
                last = info.state.last_sequence;
                if info.state.messages >= total as u64 {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Still beside the relays: nothing more may come.
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill_9(&mut first);
    kill_9(&mut second);

    let stream = js.get_stream(&stream_name).await.unwrap();
    let mut ids = std::collections::HashSet::new();
    let mut previous: i64 = 0;
    for sequence in 1..=last {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let position: i64 = message
            .headers
            .get(POSITION_HEADER)
            .and_then(|v| v.as_str().parse().ok())
            .expect("a position header");
        assert!(
            position > previous,
            "message {sequence} is in position order"
        );
        previous = position;
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str().to_owned())
            .expect("an id header");
        assert!(ids.insert(id), "message {sequence} is no duplicate");
        let line: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert!(
            line["position"].as_str().is_some(),
            "the body is the export line"
        );
    }
    let stored: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM events")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), total);
    assert_eq!(ids.len(), total, "exactly one message per event");
    assert!(stored.iter().all(|id| ids.contains(&id.to_string())));

    // A stale relay, expecting an earlier last message, is refused.
    let stale = js
        .send_publish(
            format!("{subject}.stale"),
            PublishMessage::build()
                .payload("stale".into())
                .message_id(uuid::Uuid::now_v7().to_string())
                .expected_last_sequence(last - 1),
        )
        .await
        .unwrap()
        .await;
    let refused = stale.expect_err("a stale publish is refused");
    assert_eq!(
        refused.kind(),
        jetstream::context::PublishErrorKind::WrongLastSequence,
        "{refused}"
    );
    js.delete_stream(&stream_name).await.unwrap();
}

#[sqlx::test]
async fn serve_relays_beside_its_requests_and_shows_how_far_behind_it_is(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let database_url = common::test_database_url(&connect);
    let store = common::store_with(pool, connect, 4).await;
    let nats = Nats::start();
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--relay-nats",
            &nats.url(),
        ])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let story = common::opened_story(&store).await;
    let events: Vec<_> = (0..50)
        .map(|n| common::development(&format!("report {n}")))
        .collect();
    store
        .append(story, None, &events, &common::by_tester())
        .await
        .unwrap();

    // The relay's counters move until nothing is left behind.
    let client = reqwest::Client::new();
    let mut text = String::new();
    for _ in 0..300 {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            text = response.text().await.unwrap_or_default();
            if metric(&text, "storyline_relay_published_total") >= 51.0
                && metric(&text, "storyline_relay_lag_events") == 0.0
            {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill_9(&mut server);
    assert_eq!(
        metric(&text, "storyline_relay_published_total"),
        51.0,
        "{text}"
    );
    assert_eq!(metric(&text, "storyline_relay_lag_events"), 0.0, "{text}");
    assert!(text.contains("storyline_relay_lag_seconds"), "{text}");

    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = jetstream::new(client);
    let mut stream = js
        .get_stream("STORYLINE")
        .await
        .expect("the default stream");
    assert_eq!(stream.info().await.unwrap().state.messages, 51);
    js.delete_stream("STORYLINE").await.unwrap();
}
