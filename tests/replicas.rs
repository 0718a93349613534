//! Reads on a streaming standby made in the test (`pg_basebackup -R`):
//! read-your-writes with `Storyline-Read-After`, fallback to the primary,
//! and what `/readyz` and `/metrics` say of the replica.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::cluster::PrivateCluster;
use serde_json::{json, Value};
use storyline::replicas::ReplicaSet;
use storyline::store::{ConnectOptions, Store};

const SLUG: &str = "kabul-airport-2021";

async fn primary_store(cluster: &PrivateCluster) -> Store {
    Store::connect(&ConnectOptions {
        database_url: cluster.url("storyline"),
        max_connections: 8,
        ..ConnectOptions::default()
    })
    .await
    .expect("the primary's database")
}

/// A server over `primary` reading on `standby`, waiting `wait` for a
/// read's position.
async fn server_with_replica(
    primary: &Store,
    standby: &PrivateCluster,
    wait: Duration,
) -> common::TestServer {
    server_reading_on(primary, standby, wait, false).await
}

/// [`server_with_replica`], its live feed also read on the replica when
/// `feed` is set.
async fn server_reading_on(
    primary: &Store,
    standby: &PrivateCluster,
    wait: Duration,
    feed: bool,
) -> common::TestServer {
    let options = ConnectOptions {
        max_connections: 4,
        statement_timeout: Some(Duration::from_secs(5)),
        ..ConnectOptions::default()
    };
    let set = ReplicaSet::new(
        primary.clone(),
        &[standby.url("storyline")],
        &options,
        wait,
        Duration::from_secs(10),
    )
    .await
    .expect("the replica set");
    let set = Arc::new(set);
    // Healthy before the first read.
    set.check().await;
    tokio::spawn(set.clone().watch(std::future::pending::<()>()));
    common::spawn_server_with(primary.clone(), move |state| {
        if feed {
            state
                .live
                .read_through(set.feed_source(state.metrics.clone()));
        }
        state.replicas = Some(set);
    })
    .await
}

async fn post(server: &common::TestServer, query: &str, read_after: Option<&str>) -> Value {
    let mut request = server
        .client()
        .post(server.graphql_url())
        .json(&json!({ "query": query }));
    if let Some(position) = read_after {
        request = request.header("Storyline-Read-After", position);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn version(server: &common::TestServer, read_after: Option<&str>) -> i64 {
    let answer = post(
        server,
        &format!("{{ story(slug: \"{SLUG}\") {{ version }} }}"),
        read_after,
    )
    .await;
    answer["data"]["story"]["version"]
        .as_i64()
        .unwrap_or_else(|| panic!("a version: {answer}"))
}

async fn readiness(server: &common::TestServer) -> Value {
    server
        .client()
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `/readyz` once it says the replica is `state`, or after 10 s.
async fn readiness_once(server: &common::TestServer, state: &str) -> Value {
    let mut ready = Value::Null;
    for _ in 0..200 {
        ready = readiness(server).await;
        if ready["replicas"][0]["state"] == state {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ready
}

async fn metric(server: &common::TestServer, name: &str) -> f64 {
    server
        .metrics()
        .await
        .lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_its_write_sees_it_on_a_delayed_replica_or_on_the_primary() {
    let primary_cluster = PrivateCluster::start();
    let primary = primary_store(&primary_cluster).await;
    storyline::exchange::load_demo(&primary).await.unwrap();
    let standby =
        PrivateCluster::standby_of(&primary_cluster, &["recovery_min_apply_delay = '300ms'"]);
    let patient = server_with_replica(&primary, &standby, Duration::from_secs(5)).await;
    let hasty = server_with_replica(&primary, &standby, Duration::from_millis(50)).await;
    let token = patient.token("replica-test").await;
    let story = primary.find_story_by_slug(SLUG).await.unwrap().unwrap();

    // Wait until the standby has replayed a commit and so is healthy.
    let state = readiness_once(&patient, "up").await;
    assert_eq!(state["replicas"][0]["state"], "up", "{state}");

    let write = |headline: &'static str| {
        let (patient, token) = (&patient, token.clone());
        async move {
            let answer = patient
                .post(
                    Some(&token),
                    "mutation($s: UUID!, $h: String!) { reportDevelopment(storyId: $s,
                       input: {headline: $h, occurredAt: \"2021-07-14T00:00:00Z\"}) {
                       story { version } readAfter } }",
                    json!({ "s": story.0, "h": headline }),
                )
                .await;
            let result = &answer["data"]["reportDevelopment"];
            (
                result["story"]["version"].as_i64().expect("a version"),
                result["readAfter"]
                    .as_str()
                    .expect("a readAfter")
                    .to_owned(),
            )
        }
    };

    // Without readAfter, at once: the replica, 300 ms behind, misses it.
    let (written, read_after) = write("Read on the replica").await;
    assert!(
        version(&patient, None).await < written,
        "a read without readAfter is served by the delayed replica"
    );
    // With it: the replica once it has replayed the write.
    assert_eq!(version(&patient, Some(&read_after)).await, written);
    let fallbacks_before = metric(&patient, "storyline_read_fallbacks_total").await;

    // With a 50 ms wait, the primary answers instead.
    let (written, read_after) = write("Read on the primary").await;
    assert_eq!(version(&hasty, Some(&read_after)).await, written);
    assert_eq!(metric(&hasty, "storyline_read_fallbacks_total").await, 1.0);
    assert_eq!(
        metric(&patient, "storyline_read_fallbacks_total").await,
        fallbacks_before,
        "the patient server never fell back"
    );
    let replica_reads = metric(&patient, "storyline_reads_total{target=\"127.0.0.1").await;
    assert!(
        replica_reads >= 2.0,
        "reads were counted by target: {replica_reads}"
    );

    // A malformed position is refused.
    let refused = post(
        &patient,
        "{ stories { totalCount } }",
        Some("not-a-position"),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );

    // /readyz lists the replica; stopped, it is down and reads go on.
    let ready = readiness(&patient).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["replicas"][0]["state"], "up", "{ready}");
    standby.crash();
    let ready = readiness_once(&patient, "down").await;
    assert_eq!(ready["replicas"][0]["state"], "down", "{ready}");
    let (written, _) = write("After the replica died").await;
    assert_eq!(
        version(&patient, None).await,
        written,
        "with the replica down, the primary answers, without an error"
    );
    drop(hasty);
    drop(patient);
    primary.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_read_on_a_replica_gets_every_event_once_in_order_through_its_death() {
    let primary_cluster = PrivateCluster::start();
    let primary = primary_store(&primary_cluster).await;
    storyline::exchange::load_demo(&primary).await.unwrap();
    let standby = PrivateCluster::standby_of(&primary_cluster, &[]);
    let server = server_reading_on(&primary, &standby, Duration::from_millis(50), true).await;
    let mut ready = Value::Null;
    for _ in 0..200 {
        // A commit to replay, so that the standby has a replay time.
        primary
            .create_token(
                &format!("tick-{}", uuid::Uuid::now_v7()),
                storyline::store::Scope::Read,
            )
            .await
            .unwrap();
        ready = readiness(&server).await;
        if ready["replicas"][0]["state"] == "up" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready["replicas"][0]["state"], "up", "{ready}");

    let mut subscriber = common::ws::Subscriber::connect(&server.url, json!({})).await;
    subscriber
        .subscribe("all", "subscription { events { position id } }", json!({}))
        .await;
    // The subscription is live once the reader has its head.
    tokio::time::sleep(Duration::from_millis(300)).await;

    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let stories: Vec<_> =
        futures_util::future::join_all((0..WRITERS).map(|_| common::opened_story(&primary))).await;
    let opened = WRITERS;
    // Transactions that take an id and sleep at random hold the feed's
    // settled head back, as slow writers do.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sleepers: Vec<_> = (0..4)
        .map(|n| {
            let (pool, stop) = (primary.pool().clone(), stop.clone());
            tokio::spawn(async move {
                let mut round = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let millis = (n * 7 + round * 13) % 40;
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("SELECT pg_current_xact_id()")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query(&format!("SELECT pg_sleep({})", millis as f64 / 1000.0))
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    round += 1;
                }
            })
        })
        .collect();
    let writers: Vec<_> = stories
        .iter()
        .enumerate()
        .map(|(n, &story)| {
            let primary = primary.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    let event = common::development(&format!("Writer {n}, report {i}"));
                    primary
                        .append(story, None, &[event], &common::by_tester())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    // Half-way, the standby dies: the reader goes on on the primary.
    let total = opened + WRITERS * EACH;
    let mut received = subscriber.events(total / 2, Duration::from_secs(30)).await;
    standby.crash();
    received.extend(
        subscriber
            .events(total - total / 2, Duration::from_secs(30))
            .await,
    );
    common::join_all(writers).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    common::join_all(sleepers).await;

    let positions: Vec<i64> = received.iter().map(common::ws::position).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "every event once, in position order"
    );
    let ids: std::collections::HashSet<String> =
        received.iter().map(|e| e["id"].to_string()).collect();
    let stored: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM events WHERE story_id = ANY($1)")
            .bind(stories.iter().map(|s| s.0).collect::<Vec<_>>())
            .fetch_all(primary.pool())
            .await
            .unwrap();
    assert_eq!(stored.len(), total);
    assert!(
        stored.iter().all(|id| ids.contains(&format!("\"{id}\""))),
        "every stored event was received"
    );
    let replica_reads = metric(&server, "storyline_reads_total{target=\"127.0.0.1").await;
    assert!(replica_reads > 0.0, "the feed was read on the replica");
    drop(server);
    primary.close().await;
}
