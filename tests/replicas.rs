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

async fn metric(server: &common::TestServer, name: &str) -> f64 {
    let text = server
        .client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
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
    let mut state = Value::Null;
    for _ in 0..200 {
        state = readiness(&patient).await;
        if state["replicas"][0]["state"] == "up" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    let mut ready = Value::Null;
    for _ in 0..100 {
        ready = readiness(&patient).await;
        if ready["replicas"][0]["state"] == "down" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
