//! Does every cost stay flat as the history grows?
//!
//!     cargo bench --bench scale                          # 10,000,000 events
//!     BENCH_SCALE_EVENTS=1000000 cargo bench --bench scale
//!
//! Loads a realistic mix through `import` (stories of 10 to 50,000 events,
//! log-uniform; corrections, verdicts and visibility changes among the
//! developments; 5 % of the stories INTERNAL), and at a tenth, three tenths
//! and all of `BENCH_SCALE_EVENTS` measures, on the same database: appends
//! (p50, p99, events/s) at 1 and 8 writers beside pgbench's single-row
//! INSERT at the same clients (its p50 and p99 too), each the median of
//! `BENCH_WINDOWS` (3) alternating windows of `BENCH_SECONDS` (5); a
//! snapshot read; `stateAt` at a mid-history cut of the largest story; its
//! history paged to the end; the global feed's first page and its last; a
//! search for a rare and a common word; `verify`, `rebuild` and `export`
//! in events a second; disk bytes a event, for the table and each index;
//! the import that loaded the stage, beside pgbench's raw INSERTs in
//! batches of the import's size. It prints one table: each cost at each
//! size, and its ratio to the first. Not in CI: at 10 M events it runs for
//! about an hour. `BENCH_DATABASE_URL` (default
//! .../storyline_bench_scale) is dropped and made anew; needs pgbench.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use storyline::domain::{Position, StoryId};
use storyline::store::{FeedFilter, HistoryFilter, Store, StoryFilter, VersionWindow};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline_bench_scale";

/// The largest story's size: the long tail of a newsroom's archive.
const LARGEST_STORY: usize = 50_000;

/// xorshift64*: seeded, so every run loads the same mix.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A number in `0..n`, log-uniform: word `k` about `1/(k+1)` as often
    /// as the most common (Zipf's law, as a newsroom's vocabulary has it).
    fn zipf(&mut self, n: u64) -> u64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(unit) - 1.0) as u64).min(n.saturating_sub(1))
    }
    /// A story size, log-uniform between 10 and `largest`.
    fn story_size(&mut self, largest: usize) -> usize {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (10.0 * (largest as f64 / 10.0).powf(unit)) as usize
    }
}

/// The headlines' vocabulary: without one, every headline held the same
/// few words, and a word the planner's statistics do not list looked as
/// common as any (a rare word was then planned as a common one).
const VOCABULARY: u64 = 20_000;

/// Word `k` of the vocabulary: three consonant-vowel syllables, spelled
/// from `k`, so that each stems to a lexeme of its own.
fn word(k: u64) -> String {
    const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let syllables = (CONSONANTS.len() * VOWELS.len()) as u64;
    let mut out = String::with_capacity(7);
    let mut rest = k;
    for _ in 0..3 {
        let s = (rest % syllables) as usize;
        rest /= syllables;
        out.push(CONSONANTS[s / VOWELS.len()] as char);
        out.push(VOWELS[s % VOWELS.len()] as char);
    }
    out.push('n');
    out
}

/// What is loaded so far, for the measures to aim at.
struct Loaded {
    events: usize,
    stories: Vec<(StoryId, String, usize)>,
    largest: Option<String>,
    /// The stories that reads and appends pick from: those of the first
    /// stage, so that every stage measures the same stories.
    sample: usize,
    random: Random,
    day: DateTime<Utc>,
}

impl Loaded {
    /// The story writer `w` appends to: one of the sample, never the
    /// largest (the first loaded), whose growth would move what `stateAt`
    /// and paging measure, unless it is the only one.
    fn story_of_writer(&self, w: usize) -> StoryId {
        let pick = match self.sample {
            0 | 1 => 0,
            sample => 1 + (w * 7919) % (sample - 1),
        };
        self.stories[pick].0
    }
}

/// One story's events as import lines.
fn story_lines(loaded: &mut Loaded, slug: &str, size: usize) -> String {
    let mut out = String::new();
    let internal = loaded.random.below(20) == 0;
    let mut line = |kind: &str, data: serde_json::Value| {
        let value = serde_json::json!({"story": slug, "type": kind, "id": uuid::Uuid::now_v7(), "data": data});
        out.push_str(&value.to_string());
        out.push('\n');
    };
    let visibility = if internal { "INTERNAL" } else { "PUBLIC" };
    line(
        "StoryOpened",
        serde_json::json!({"title": format!("Scale story {slug}"), "summary": "Generated", "visibility": visibility}),
    );
    let mut developments = Vec::new();
    let common_word = "airport";
    for n in 1..size {
        loaded.day += chrono::Duration::minutes(7);
        let roll = loaded.random.below(100);
        if roll < 5 && !developments.is_empty() {
            let target = developments[loaded.random.below(developments.len() as u64) as usize];
            line(
                "DevelopmentCorrected",
                serde_json::json!({"developmentId": target,
                "changes": {"headline": format!("Corrected development {n}")}, "reason": "a later report"}),
            );
        } else if roll < 8 && !developments.is_empty() {
            let target = developments[loaded.random.below(developments.len() as u64) as usize];
            line(
                "DevelopmentVerificationChanged",
                serde_json::json!({"developmentId": target,
                "status": "CONFIRMED", "note": "checked"}),
            );
        } else if roll < 9 {
            line(
                "StoryVisibilityChanged",
                serde_json::json!({"visibility": visibility}),
            );
        } else {
            let id = uuid::Uuid::now_v7();
            developments.push(id);
            let words: Vec<String> = (0..4)
                .map(|_| word(loaded.random.zipf(VOCABULARY)))
                .collect();
            let words = words.join(" ");
            // The rare word in a tag: corrections rewrite headlines, and the
            // 10 M run lost it to one.
            let tags = if loaded.events + n == 4_242 {
                serde_json::json!(["scale", "zanzibarite"])
            } else {
                serde_json::json!(["scale"])
            };
            line(
                "DevelopmentReported",
                serde_json::json!({
                "developmentId": id,
                "headline": format!("Development {n}: {words} at the {common_word}"),
                "occurredAt": loaded.day, "precision": "DAY",
                "actors": [{"name": "Taliban", "kind": "GROUP"}, {"name": format!("Actor {}", n % 50), "kind": "PERSON"}],
                "figures": [{"metric": "killed", "value": n % 100, "qualifier": "AT_LEAST", "place": "Kabul",
                             "claimedBy": format!("Source {}", n % 3)}],
                "sources": [{"name": "Press report", "kind": "WIRE"}], "tags": tags}),
            );
        }
    }
    out
}

/// Imports stories until `target` events are loaded.
async fn load_to(store: &Store, loaded: &mut Loaded, target: usize) -> anyhow::Result<()> {
    let mut chunk = String::new();
    let mut slugs = Vec::new();
    while loaded.events < target {
        let largest = LARGEST_STORY.min(target / 20).max(10);
        let size = if loaded.largest.is_none() {
            largest
        } else {
            loaded
                .random
                .story_size(largest)
                .min(target - loaded.events)
                .max(2)
        };
        let slug = format!("scale-{}", loaded.stories.len() + slugs.len());
        chunk.push_str(&story_lines(loaded, &slug, size));
        if loaded.largest.is_none() {
            loaded.largest = Some(slug.clone());
        }
        slugs.push((slug, size));
        loaded.events += size;
        if chunk.len() > 64 << 20 || loaded.events >= target {
            storyline::exchange::import(store, std::io::Cursor::new(std::mem::take(&mut chunk)))
                .await?;
            for (slug, size) in slugs.drain(..) {
                let id = store
                    .find_story_by_slug(&slug)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("{slug} missing"))?;
                loaded.stories.push((id, slug, size));
            }
        }
    }
    Ok(())
}

/// Appends of one development by `writers` writers for `duration`:
/// (events/s, p50 ms, p99 ms).
async fn appends(
    store: &Store,
    loaded: &Loaded,
    writers: usize,
    duration: Duration,
) -> anyhow::Result<(f64, f64, f64)> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let story = loaded.story_of_writer(w);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while started.elapsed() < duration {
                    let input = serde_json::json!({"developmentId": uuid::Uuid::now_v7(),
                        "headline": "Appended at scale", "occurredAt": "2024-06-01T00:00:00Z", "precision": "DAY"});
                    let event = storyline::domain::events::StoryEvent::DevelopmentReported(serde_json::from_value(input)?);
                    let event = storyline::store::NewEvent::from_event(&event, None);
                    let sent = Instant::now();
                    store.append(story, None, &[event], &storyline::store::EventMetadata::by("bench")).await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    latencies.sort_unstable();
    Ok((
        latencies.len() as f64 / started.elapsed().as_secs_f64(),
        common::quantile_ms(&latencies, 0.5),
        common::quantile_ms(&latencies, 0.99),
    ))
}

/// Each append window's rate, p50 and p99.
#[derive(Default)]
struct Windows {
    rates: Vec<f64>,
    p50s: Vec<f64>,
    p99s: Vec<f64>,
}

impl Windows {
    fn push(&mut self, rate: f64, p50: f64, p99: f64) {
        self.rates.push(rate);
        self.p50s.push(p50);
        self.p99s.push(p99);
    }

    /// The median of each over the windows.
    fn medians(mut self) -> (f64, f64, f64) {
        (
            median(&mut self.rates),
            median(&mut self.p50s),
            median(&mut self.p99s),
        )
    }
}

/// The middle value (of an even count, the lower middle, as
/// `common::quantile_ms` picks); NaN if none.
fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// The median of `rounds` timings of `work`, in milliseconds.
async fn median_ms<F, Fut>(rounds: usize, mut work: F) -> anyhow::Result<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut timings = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        work(round).await?;
        timings.push(started.elapsed());
    }
    timings.sort_unstable();
    Ok(common::quantile_ms(&timings, 0.5))
}

async fn disk_bytes(store: &Store, events: i64) -> anyhow::Result<Vec<(String, f64)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT 'events (table)', pg_relation_size('events')
         UNION ALL SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
         FROM pg_index WHERE indrelid = 'events'::regclass",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, bytes)| {
            (
                format!("bytes/event: {name}"),
                bytes as f64 / events.max(1) as f64,
            )
        })
        .collect())
}

/// Every cost at the current size, by name.
async fn measure(
    store: &Store,
    url: &str,
    loaded: &Loaded,
    seconds: u64,
    windows: usize,
    imported: f64,
) -> anyhow::Result<Vec<(String, f64)>> {
    let mut costs = Vec::new();
    let duration = Duration::from_secs(seconds);
    // The import that loaded this stage, beside raw INSERTs of rows of the
    // same shape in batches of its size (500 a transaction), one client
    // (simple protocol: a prepared statement takes at most 255 parameters).
    let raw = common::pgbench_events_per_second(url, "simple", 1, 500, seconds)?;
    costs.push(("import events/s (this stage)".into(), imported));
    costs.push(("raw batched INSERT events/s".into(), raw));
    costs.push(("import / raw batched INSERT".into(), imported / raw));
    for writers in [1, 8] {
        // Alternating windows, ours then pgbench's, each figure the median
        // of its windows: one window's p99 is one sample of the disk's
        // worst moments (a 60 k-event run showed ours doubling between
        // stages where nothing grew).
        let mut ours = Windows::default();
        let mut raw = Windows::default();
        for _ in 0..windows {
            let (rate, p50, p99) = appends(store, loaded, writers, duration).await?;
            ours.push(rate, p50, p99);
            let pgbench = common::pgbench_events(url, "prepared", writers, 1, seconds)?;
            raw.push(pgbench.per_second, pgbench.p50_ms, pgbench.p99_ms);
        }
        let (rate, p50, p99) = ours.medians();
        let (raw_rate, raw_p50, raw_p99) = raw.medians();
        costs.push((format!("append {writers}w events/s"), rate));
        costs.push((format!("append {writers}w p50 ms"), p50));
        costs.push((format!("append {writers}w p99 ms"), p99));
        costs.push((format!("append {writers}w / pgbench"), rate / raw_rate));
        // The single-row INSERT's own tail, beside ours: a commit's wait
        // for the disk is in both, and tells the database's share of a
        // p99 that grows from the one storyline's statements add.
        costs.push((format!("pgbench {writers}w p50 ms"), raw_p50));
        costs.push((format!("pgbench {writers}w p99 ms"), raw_p99));
    }
    let pick = |round: usize| loaded.stories[(round * 104_729) % loaded.sample].0;
    costs.push((
        "snapshot read ms".into(),
        median_ms(50, |r| async move {
            store.load_snapshot(pick(r)).await?;
            Ok(())
        })
        .await?,
    ));
    let largest = store
        .find_story_by_slug(loaded.largest.as_deref().unwrap_or_default())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the largest story"))?;
    let versions = store.current_version(largest).await?.0;
    costs.push(("largest story, events".into(), f64::from(versions)));
    let mid: DateTime<Utc> =
        sqlx::query_scalar("SELECT recorded_at FROM events WHERE story_id = $1 AND version = $2")
            .bind(largest.0)
            .bind(versions / 2)
            .fetch_one(store.pool())
            .await?;
    costs.push((
        "stateAt mid-history (largest) ms".into(),
        median_ms(5, |r| async move {
            let cut = mid + chrono::Duration::microseconds(r as i64);
            store.state_at(largest, None, Some(cut)).await?;
            Ok(())
        })
        .await?,
    ));
    costs.push((
        "history paged to the end (largest) ms".into(),
        median_ms(3, |_| async move {
            let mut after = None;
            loop {
                let window = VersionWindow {
                    after,
                    before: None,
                };
                let page = store
                    .read_history(largest, &HistoryFilter::default(), window, 500, false)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.version);
                if page.len() < 500 {
                    break;
                }
            }
            Ok(())
        })
        .await?,
    ));
    costs.push((
        "feed first page ms".into(),
        median_ms(20, |_| async move {
            store
                .read_feed(Position::START, 500, &FeedFilter::all())
                .await?;
            Ok(())
        })
        .await?,
    ));
    let head: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(store.pool())
        .await?;
    costs.push((
        "feed from the head ms".into(),
        median_ms(20, |_| async move {
            store
                .read_feed(Position(head - 1), 500, &FeedFilter::all())
                .await?;
            Ok(())
        })
        .await?,
    ));
    for (label, word) in [
        ("search rare word ms", "zanzibarite"),
        ("search common word ms", "airport"),
    ] {
        costs.push((
            label.into(),
            median_ms(5, |_| async move {
                let filter = StoryFilter {
                    search: Some(word.into()),
                    ..StoryFilter::default()
                };
                let found = store.list_stories(&filter, None, 20).await?;
                // A search that finds nothing measures nothing.
                anyhow::ensure!(!found.is_empty(), "no story has {word:?}");
                Ok(())
            })
            .await?,
        ));
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(store.pool())
        .await?;
    let started = Instant::now();
    let differences = storyline::projection::verify(store, |_| {}).await?;
    anyhow::ensure!(
        differences.is_empty(),
        "verify found {} differences, such as {}",
        differences.len(),
        differences
            .iter()
            .take(3)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    );
    costs.push((
        "verify events/s".into(),
        events as f64 / started.elapsed().as_secs_f64(),
    ));
    let started = Instant::now();
    storyline::projection::rebuild(store, |_| {}).await?;
    costs.push((
        "rebuild events/s".into(),
        events as f64 / started.elapsed().as_secs_f64(),
    ));
    let started = Instant::now();
    storyline::exchange::export(store, None, std::io::sink()).await?;
    costs.push((
        "export events/s".into(),
        events as f64 / started.elapsed().as_secs_f64(),
    ));
    costs.extend(disk_bytes(store, events).await?);
    Ok(costs)
}

/// The allocator the `storyline` binary runs with (src/main.rs): its
/// rebuild, import and verify are measured as they ship. With glibc's, a
/// rebuild's search analysis cost a fifth more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = common::env_number("BENCH_SCALE_EVENTS", 10_000_000);
    let seconds: u64 = common::env_number("BENCH_SECONDS", 5);
    let windows: usize = common::env_number("BENCH_WINDOWS", 3).max(1);
    let (url, store) = common::fresh_store(DEFAULT_URL, 16).await?;
    common::create_raw_table(&url).await?;
    let mut loaded = Loaded {
        events: 0,
        stories: Vec::new(),
        largest: None,
        sample: 0,
        random: Random(0x5CA1_E5EE_D000_0001),
        day: "2015-01-01T00:00:00Z".parse()?,
    };
    let mut table: Vec<(usize, Vec<(String, f64)>)> = Vec::new();
    for size in [total / 10, total * 3 / 10, total] {
        let (started, before) = (Instant::now(), loaded.events);
        load_to(&store, &mut loaded, size).await?;
        let imported = (loaded.events - before) as f64 / started.elapsed().as_secs_f64().max(1e-3);
        println!(
            "loaded {} events in {} stories ({imported:.0} events/s through import)",
            loaded.events,
            loaded.stories.len(),
        );
        if loaded.sample == 0 {
            loaded.sample = loaded.stories.len();
        }
        println!(
            "vacuumed, analysed and checkpointed in {:.1} s",
            common::settle_after_load(&store).await?
        );
        let costs = measure(&store, &url, &loaded, seconds, windows, imported).await?;
        // Each stage as it ends: a run stopped early keeps what it measured.
        for (name, value) in &costs {
            println!("  {name:<40} {value:>12.1}");
        }
        table.push((loaded.events, costs));
    }
    println!(
        "\n{:<40} {}",
        "cost",
        table
            .iter()
            .map(|(n, _)| format!("{:>14}", format!("{n} ev")))
            .collect::<String>()
    );
    if let Some((_, first)) = table.first() {
        for (i, (name, base)) in first.iter().enumerate() {
            let cells: String = table
                .iter()
                .map(|(_, costs)| {
                    let value = costs.get(i).map_or(f64::NAN, |c| c.1);
                    format!("{:>14}", format!("{value:.1} ({:.2})", value / base))
                })
                .collect();
            println!("{name:<40} {cells}");
        }
    }
    store.close().await;
    Ok(())
}
