//! Beyond one machine, measured on one (DESIGN §13):
//!
//!     cargo bench --bench replicas
//!
//! On a private primary and a standby made with `pg_basebackup -R` (run as
//! root: the clusters run as `postgres`), with the demo story, for
//! `BENCH_SECONDS` each (default 10):
//! - the snapshot query at 32 connections against a server on the primary
//!   alone, then against one reading on the standby (`--replica-url`);
//! - under 8 clients reporting developments through the primary's server:
//!   the standby's replay lag (from a primary WAL position to the standby
//!   having replayed it, sampled every 20 ms), p50 and p99;
//! - the JetStream relay (`storyline relay`, NATS at 127.0.0.1:4222, a
//!   stream of its own, deleted after) under that load: events published
//!   a second once caught up, and its lag in events, p50 and p99.
//!
//! Everything shares the machine's cores: a replica here adds no CPU, so
//! the replica figure shows the routing's cost, not a scale-out.

#[path = "../tests/common/cluster.rs"]
#[allow(dead_code)]
mod cluster;
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use storyline::store::{ConnectOptions, Store};

const PRIMARY_LISTEN: &str = "127.0.0.1:18091";
const REPLICA_LISTEN: &str = "127.0.0.1:18092";
const NATS: &str = "nats://127.0.0.1:4222";

const SNAPSHOT: &str = "{ story(slug: \"kabul-airport-2021\") { version snapshot {
    title developments { id headline occurredAt actors { name } figures { metric value } }
    actors { name mentions } quotes { speaker text } } } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = common::env_number("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let primary_cluster = cluster::PrivateCluster::start();
    let url = primary_cluster.url("storyline");
    let store = Store::connect(&ConnectOptions {
        database_url: url.clone(),
        ..ConnectOptions::default()
    })
    .await?;
    storyline::exchange::load_demo(&store).await?;
    let token = store
        .create_token("bench", storyline::store::Scope::Write)
        .await?;
    let standby = cluster::PrivateCluster::standby_of(&primary_cluster, &[]);
    let replica_url = standby.url("storyline");
    let binary = env!("CARGO_BIN_EXE_storyline");
    let client = reqwest::Client::new();
    let body = json!({ "query": SNAPSHOT });

    let alone = {
        let _server = common::start_server(binary, &url, PRIMARY_LISTEN).await?;
        let api = Arc::new(format!("http://{PRIMARY_LISTEN}/graphql"));
        common::reads_per_second(&client, &api, &body, 32, duration).await?
    };
    let replicated = {
        let _server = common::start_server_with(
            binary,
            &url,
            REPLICA_LISTEN,
            &["--replica-url", &replica_url],
        )
        .await?;
        let api = Arc::new(format!("http://{REPLICA_LISTEN}/graphql"));
        common::reads_per_second(&client, &api, &body, 32, duration).await?
    };
    println!(
        "snapshot query, 32 connections: primary alone {:8.0} req/s (p99 {:.1} ms); \
         reading on the replica {:8.0} req/s (p99 {:.1} ms); ratio {:.2}",
        alone.per_second,
        alone.p99_ms,
        replicated.per_second,
        replicated.p99_ms,
        replicated.per_second / alone.per_second
    );

    // The append load, with the replay lag and the relay measured beside it.
    let _server = common::start_server(binary, &url, PRIMARY_LISTEN).await?;
    let api = Arc::new(format!("http://{PRIMARY_LISTEN}/graphql"));
    let stream = format!("BENCH_{}", uuid::Uuid::now_v7().simple());
    let mut relay = std::process::Command::new(binary)
        .args(["relay", "--nats", NATS, "--stream", &stream, "--subject"])
        .arg(format!("bench.{}", uuid::Uuid::now_v7().simple()))
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .spawn()?;
    let replica = Store::connect_replica(
        &ConnectOptions {
            database_url: replica_url.clone(),
            max_connections: 2,
            ..ConnectOptions::default()
        },
        store.position_offset().await?,
    )?;
    let nats = async_nats::connect(NATS).await?;
    let jetstream = async_nats::jetstream::new(nats);

    let load = {
        let (client, api) = (client.clone(), api.clone());
        tokio::spawn(async move {
            common::report_developments_per_second(&client, &api, &token, 8, duration).await
        })
    };
    let mut replay_lags = Vec::new();
    let mut relay_lags = Vec::new();
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        let position = store.wal_position().await?;
        let asked = Instant::now();
        loop {
            let replayed = replica.replayed().await?;
            if replayed.position.is_some_and(|p| p >= position) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        replay_lags.push(asked.elapsed());
        let stored = events_stored(&store).await?;
        relay_lags.push(stored.saturating_sub(published(&jetstream, &stream).await));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let appended = load.await??;
    let stored = events_stored(&store).await?;
    let caught_up_from = Instant::now();
    let before = published(&jetstream, &stream).await;
    while published(&jetstream, &stream).await < stored {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = stored - before;
    let drain_rate = drained as f64 / caught_up_from.elapsed().as_secs_f64().max(1e-3);
    let relay_total = published(&jetstream, &stream).await;
    let _ = relay.kill();
    let _ = relay.wait();
    let _ = jetstream.delete_stream(&stream).await;

    replay_lags.sort_unstable();
    relay_lags.sort_unstable();
    // Lags in events, not time: an index into the sorted counts.
    let quantile = |q: f64, len: usize| ((len as f64 - 1.0) * q) as usize;
    println!(
        "under {appended:.0} appends/s (8 clients): replica replay lag p50 {:.1} ms, p99 {:.1} ms \
         ({} samples)",
        common::quantile_ms(&replay_lags, 0.5),
        common::quantile_ms(&replay_lags, 0.99),
        replay_lags.len()
    );
    println!(
        "relay: {relay_total} events in the stream; lag under load p50 {} events, p99 {} events; \
         the backlog after the load drained at {drain_rate:.0} events/s ({drained} events)",
        relay_lags[quantile(0.5, relay_lags.len())],
        relay_lags[quantile(0.99, relay_lags.len())],
    );
    store.close().await;
    Ok(())
}

async fn events_stored(store: &Store) -> anyhow::Result<u64> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(store.pool())
        .await?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Messages in the bench's stream (0 before the relay made it).
async fn published(jetstream: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match jetstream.get_stream(stream).await {
        Ok(mut stream) => stream.info().await.map_or(0, |info| info.state.messages),
        Err(_) => 0,
    }
}
