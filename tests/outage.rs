//! The database crashing and coming back under eight writers, on a cluster
//! the test owns:
//! no acknowledged append is lost, and every request that fails meanwhile
//! says UNAVAILABLE (retry), never INTERNAL_SERVER_ERROR.

mod common;

use std::time::Duration;

use common::cluster::PrivateCluster;
use common::spawn_server;
use serde_json::{json, Value};
use storyline::domain::EventId;
use storyline::store::{ConnectOptions, Store};

const WRITERS: usize = 8;
/// Each writer stops at this many reports, or at the deadline.
const MAX_REPORTS_PER_WRITER: usize = 5_000;
const WRITING_FOR: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_under_eight_writers_loses_no_acknowledged_report_and_codes_failures_unavailable() {
    let cluster = PrivateCluster::start();
    let store = Store::connect(&ConnectOptions {
        database_url: cluster.url("storyline"),
        max_connections: 12,
        statement_timeout: Some(Duration::from_secs(2)),
        ..ConnectOptions::default()
    })
    .await
    .expect("the private cluster is up");
    let server = std::sync::Arc::new(spawn_server(store.clone()).await);
    let token = server.token("writer").await;
    let mut stories = Vec::new();
    for n in 0..WRITERS {
        let opened = server
            .post(
                Some(&token),
                "mutation($slug: String!) { openStory(input: {slug: $slug, title: \"W\"}) { story { id } } }",
                json!({"slug": format!("writer-{n}")}),
            )
            .await;
        stories.push(
            opened["data"]["openStory"]["story"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let writers: Vec<_> = stories
        .into_iter()
        .map(|story| {
            let server = server.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let mut outcomes: Vec<(uuid::Uuid, Result<(), String>)> = Vec::new();
                let deadline = tokio::time::Instant::now() + WRITING_FOR;
                for n in 0..MAX_REPORTS_PER_WRITER {
                    if tokio::time::Instant::now() > deadline {
                        break;
                    }
                    let event_id = uuid::Uuid::now_v7();
                    let answer: Value = server
                        .post(
                            Some(&token),
                            "mutation($story: UUID!, $id: UUID, $input: DevelopmentInput!) {
                                reportDevelopment(storyId: $story, eventId: $id, input: $input) {
                                    events { id } } }",
                            json!({"story": story, "id": event_id, "input": {
                                "headline": format!("Report {n}"),
                                "occurredAt": "2021-07-13T00:00:00Z"}}),
                        )
                        .await;
                    let outcome = match answer["errors"][0]["extensions"]["code"].as_str() {
                        None => Ok(()),
                        Some(code) => Err(code.to_owned()),
                    };
                    outcomes.push((event_id, outcome));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                outcomes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The database goes away as in a crash, stays away a while, comes
    // back (pg_ctl blocks this worker; the writers go on on the other).
    tokio::task::block_in_place(|| cluster.crash());
    let readiness = server
        .client()
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(readiness.status(), 503);
    assert_eq!(readiness.text().await.unwrap(), "database unreachable");
    // A request while the database is down is told to retry, whatever the
    // writers happened to be doing at the crash.
    let during = server.query("{ stories { totalCount } }", json!({})).await;
    assert_eq!(
        during["errors"][0]["extensions"]["code"], "UNAVAILABLE",
        "{during}"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    tokio::task::block_in_place(|| cluster.start_again());

    let mut acknowledged = Vec::new();
    let mut failures = Vec::new();
    for writer in writers {
        for (id, outcome) in writer.await.unwrap() {
            match outcome {
                Ok(()) => acknowledged.push(EventId(id)),
                Err(code) => failures.push(code),
            }
        }
    }
    eprintln!(
        "{} reports acknowledged, {} refused across the restart",
        acknowledged.len(),
        failures.len()
    );
    assert!(
        failures.iter().all(|code| code == "UNAVAILABLE"),
        "every failure says retry: {failures:?}"
    );
    assert!(!acknowledged.is_empty());
    let stored = store.events_with_ids(&acknowledged).await.unwrap();
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "every acknowledged report is stored ({} failed meanwhile)",
        failures.len()
    );
    store.close().await;
}
