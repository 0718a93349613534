//! Projection and replay figures, in one run:
//!
//!     cargo bench --bench projection
//!
//! - an append to a story that already has 10,000 developments, against an
//!   append to a new story (target: at most 1.5x);
//! - state_at latency (p50/p99) on a 10,000-event story as known mid-story,
//!   with and without stored replay checkpoints (target: p50 <= 20 ms);
//! - import events/s over BENCH_IMPORT_EVENTS (default 100,000) against
//!   pgbench writing the same rows in 500-row INSERTs, one client (target:
//!   at least half);
//! - rebuild events/s over BENCH_REBUILD_EVENTS (default 1,000,000) events in
//!   stories of 100, with the process's peak memory (target >= 100,000/s, issue 25),
//!   on the database as autovacuum leaves it after the load, checkpointed.
//!
//! `BENCH_DATABASE_URL` (default .../storyline_bench_projection) is dropped
//! and recreated. Needs `pgbench` on the PATH.

use std::time::{Duration, Instant};

mod common;

use chrono::Utc;
use storyline::domain::events::{DevelopmentReported, StoryEvent, StoryOpened};
use storyline::domain::StoryId;
use storyline::store::{EventMetadata, NewEvent, Store};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline_bench_projection";

fn opening(story: StoryId) -> NewEvent {
    NewEvent::from_event(
        &StoryEvent::StoryOpened(StoryOpened {
            schema_version: 1,
            slug: format!("bench-{}", story.0.simple()),
            title: "Bench story".into(),
            summary: Some("A generated story".into()),
            topics: vec!["bench".into()],
            visibility: None,
            embargo_until: None,
        }),
        None,
    )
}

fn development(n: usize) -> NewEvent {
    let occurred_at = Utc::now() - chrono::Duration::minutes(n as i64);
    let reported: DevelopmentReported = serde_json::from_value(serde_json::json!({
        "developmentId": uuid::Uuid::now_v7(),
        "headline": format!("Generated development {n}"),
        "occurredAt": occurred_at,
        "precision": "DAY",
        "actors": [{"name": "Taliban", "kind": "GROUP"}, {"name": format!("Actor {}", n % 50), "kind": "PERSON"}],
        "figures": [{"metric": "killed", "value": n % 100, "qualifier": "AT_LEAST", "place": "Kabul"}],
        "sources": [{"name": "Press report"}],
        "tags": ["bench"]
    }))
    .expect("valid development");
    NewEvent::from_event(
        &StoryEvent::DevelopmentReported(reported),
        Some(occurred_at),
    )
}

/// A story with `developments` developments, appended in batches of 500.
async fn story_of(store: &Store, developments: usize) -> anyhow::Result<StoryId> {
    let story = StoryId::generate();
    let meta = EventMetadata::by("bench");
    store.append(story, None, &[opening(story)], &meta).await?;
    let mut made = 0;
    while made < developments {
        let batch: Vec<NewEvent> = (made..developments.min(made + 500))
            .map(development)
            .collect();
        made += batch.len();
        store.append(story, None, &batch, &meta).await?;
    }
    Ok(story)
}

/// NDJSON of `events` events in stories of 1,000 (a StoryOpened and 999
/// developments each), as `storyline import` reads it.
fn import_file(events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for n in 0..events {
        let story = n / 1_000;
        let (event_type, data) = if n % 1_000 == 0 {
            (
                "StoryOpened",
                serde_json::json!({"title": format!("Imported story {story}"), "summary": "Generated"}),
            )
        } else {
            let new_event = development(n);
            ("DevelopmentReported", new_event.payload)
        };
        let line = serde_json::json!({"story": format!("imported-{story}"), "type": event_type,
                                      "id": uuid::Uuid::now_v7(), "data": data});
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The allocator the `storyline` binary runs with (src/main.rs): its
/// rebuild, import and verify are measured as they ship. With glibc's, a
/// rebuild's search analysis cost a fifth more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rebuild_events: usize = common::env_number("BENCH_REBUILD_EVENTS", 1_000_000);
    let (url, store) = common::fresh_store(DEFAULT_URL, 8).await?;
    let meta = EventMetadata::by("bench");
    println!("storyline projection bench, database {url}");

    // Append cost against story length.
    let big = story_of(&store, 10_000).await?;
    let rounds = 500;
    let mut long_story = Duration::ZERO;
    let mut new_story = Duration::ZERO;
    for n in 0..rounds {
        let started = Instant::now();
        store.append(big, None, &[development(n)], &meta).await?;
        long_story += started.elapsed();
        let fresh = StoryId::generate();
        store.append(fresh, None, &[opening(fresh)], &meta).await?;
        let started = Instant::now();
        store.append(fresh, None, &[development(n)], &meta).await?;
        new_story += started.elapsed();
    }
    let ratio = long_story.as_secs_f64() / new_story.as_secs_f64();
    println!(
        "append to a 10,000-development story: {:?}/append vs {:?} to a new one: {ratio:.2}x (target <= 1.5x) {}",
        long_story / rounds as u32,
        new_story / rounds as u32,
        if ratio <= 1.5 { "ok" } else { "NO" }
    );

    // state_at on a 10,000-event story, known as of its middle.
    let events = store
        .read_stream(big, storyline::domain::Version(1), None)
        .await?;
    let middle = events[events.len() / 2].recorded_at;
    for (label, every) in [
        ("without stored checkpoints", u32::MAX),
        ("with stored checkpoints every 100", 100),
    ] {
        let replaying = store.clone().with_checkpoint_every(every);
        let mut latencies = Vec::new();
        for _ in 0..40 {
            let started = Instant::now();
            replaying.state_at(big, None, Some(middle)).await?;
            latencies.push(started.elapsed());
        }
        // The first replay of a cut starts from a stored checkpoint or the first
        // event; later ones from the fold this process kept in memory.
        let first = latencies[0];
        latencies.sort();
        let p50 = percentile(&latencies, 0.5);
        println!(
            "state_at(knownAt: middle) on 10,000 events, {label}: first {first:?}, p50 {p50:?} p99 {:?} (target p50 <= 20 ms) {}",
            percentile(&latencies, 0.99),
            if p50 <= Duration::from_millis(20) { "ok" } else { "NO" }
        );
    }

    // Forty different cuts in scrambled order: replays start from whatever
    // fold is kept or stored before each cut.
    let replaying = store.clone();
    let mut latencies = Vec::new();
    for k in 0..40usize {
        let cut = events[(k * 7_919) % events.len()].recorded_at;
        let started = Instant::now();
        replaying.state_at(big, None, Some(cut)).await?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "state_at(knownAt: 40 different cuts) on 10,000 events, stored checkpoints every 100: p50 {:?} p99 {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    // Import against the raw batched-insert baseline: one client writing
    // 500-row multi-row INSERTs of the same row shape (import writes each
    // story's events in batches of up to 500, one writer).
    let import_events: usize = common::env_number("BENCH_IMPORT_EVENTS", 100_000);
    let seconds: u64 = common::env_number("BENCH_SECONDS", 10);
    common::create_raw_table(&url).await?;
    let raw = common::pgbench_events_per_second(&url, "simple", 1, 500, seconds)?;
    let ndjson = import_file(import_events);
    let started = Instant::now();
    let imported = storyline::exchange::import(&store, std::io::Cursor::new(ndjson)).await?;
    let rate = imported.appended as f64 / started.elapsed().as_secs_f64();
    println!(
        "import: {} events in {:?}: {rate:.0} events/s vs raw batched INSERT {raw:.0} rows/s: {:.2} (target >= 0.5) {}",
        imported.appended,
        started.elapsed(),
        rate / raw,
        if rate / raw >= 0.5 { "ok" } else { "NO" }
    );

    // Rebuild throughput and memory.
    let stories = rebuild_events / 100;
    let loading = Instant::now();
    for _ in 0..stories {
        story_of(&store, 99).await?;
    }
    let memory_before = peak_memory_kib();
    println!(
        "loaded {} events in {stories} stories in {:?}",
        stories * 100,
        loading.elapsed()
    );
    println!(
        "vacuumed, analysed and checkpointed in {:.1} s",
        common::settle_after_load(&store).await?
    );
    let started = Instant::now();
    let report = store.rebuild_snapshots(|_| {}).await?;
    let rate = report.events as f64 / started.elapsed().as_secs_f64();
    println!(
        "rebuild: {} events in {:?}: {rate:.0} events/s (target >= 100,000) {}; peak memory {} MiB before, {} MiB after",
        report.events,
        started.elapsed(),
        if rate >= 100_000.0 { "ok" } else { "NO" },
        memory_before / 1024,
        peak_memory_kib() / 1024
    );
    store.close().await;
    Ok(())
}
