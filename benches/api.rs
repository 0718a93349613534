//! The GraphQL API under load, beside the raw Postgres baseline in the same
//! run.
//!
//!     cargo bench --bench api
//!
//! Starts the release binary (`storyline serve`) on a fresh database
//! (`BENCH_DATABASE_URL`, default
//! postgres://postgres@127.0.0.1:5432/storyline_bench_api, dropped and
//! recreated) with the demo story, then measures for `BENCH_SECONDS` each
//! (default 10):
//! - `reportDevelopment` over HTTP at 8 concurrent clients (one story each)
//!   against pgbench inserting rows of the same shape, one per transaction,
//!   at 8 clients (target: at least half of it), in `BENCH_ROUNDS`
//!   alternating rounds (default 5), the median round's ratio printed last;
//! - the snapshot query of the demo story at 32 concurrent connections:
//!   requests/s and p50/p99 latency (targets: 3,000 req/s, p99 ≤ 20 ms);
//! - `stories(search:)` at 32 connections, for a word of one development
//!   and for one in every bench development (after the appends, tens of
//!   thousands), against pgbench running the same two statements the
//!   server does (page and totalCount) at 32 clients, prepared.
//!
//! `BENCH_ONLY=appends` or `BENCH_ONLY=reads` measures the appends, or the
//! two kinds of reads.
//!
//! The load generator (reqwest) runs on the same two cores as the server
//! and Postgres, so the figures are a floor.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/storyline_bench_api";
const LISTEN: &str = "127.0.0.1:18081";

const SNAPSHOT_QUERY: &str = "{ story(slug: \"kabul-airport-2021\") { version snapshot {
    title status version
    developments { id headline occurredAt precision location { name country }
                   actors { name kind } quotes { speaker text } figures { metric value qualifier place }
                   stances { actor target position } sources { name url } tags reportedInVersion }
    actors { name kind mentions firstSeenAt lastSeenAt }
    figures { metric value qualifier place developmentId }
    quotes { speaker text developmentId } } } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = common::env_number("BENCH_SECONDS", 10);
    let duration = Duration::from_secs(seconds);
    let (url, store) = common::fresh_store(DEFAULT_URL, 16).await?;
    common::create_raw_table(&url).await?;
    let token = store
        .create_token("bench", storyline::store::Scope::Write)
        .await?;
    storyline::exchange::load_demo(&store).await?;
    store.close().await;

    let _server = common::start_server(env!("CARGO_BIN_EXE_storyline"), &url, LISTEN).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let base = format!("http://{LISTEN}");
    let api = Arc::new(format!("{base}/graphql"));
    println!("storyline API bench: {seconds} s per figure, database {url}");

    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "reads" {
        // Rounds alternate between pgbench and the API, so that a drift of
        // the machine (a checkpoint, the page cache) falls on both; the
        // median round's ratio is the figure.
        let rounds: usize = common::env_number("BENCH_ROUNDS", 5);
        let mut measured: Vec<(f64, f64)> = Vec::new();
        for round in 1..=rounds {
            let raw = common::pgbench_events_per_second(&url, "simple", 8, 1, seconds)?;
            let appends =
                common::report_developments_per_second(&client, &api, &token, 8, duration).await?;
            println!(
                "round {round}: reportDevelopment {appends:>8.0} events/s, \
                 pgbench {raw:>8.0}/s, ratio {:.2}",
                appends / raw
            );
            measured.push((appends, raw));
        }
        measured.sort_by(|(a, a_raw), (b, b_raw)| (a / a_raw).total_cmp(&(b / b_raw)));
        if let Some(&(appends, raw)) = measured.get(measured.len() / 2) {
            print_appends(appends, raw);
        }
    }
    if only != "appends" {
        let snapshot = json!({ "query": SNAPSHOT_QUERY });
        let reads = common::reads_per_second(&client, &api, &snapshot, 32, duration).await?;
        print_reads(&reads);
        for words in SEARCHES {
            let tsquery = storyline::domain::search::search_query(words)?
                .ok_or_else(|| anyhow::anyhow!("{words:?} has no search terms"))?;
            let query = format!(
                "{{ stories(first: 10, search: \"{words}\") {{ totalCount nodes {{ slug version }} }} }}"
            );
            let body = json!({ "query": query });
            let reads = common::reads_per_second(&client, &api, &body, 32, duration).await?;
            let raw =
                common::pgbench_tps(&url, "prepared", 32, &raw_search(tsquery.as_str()), seconds)?;
            print_search(words, &reads, raw);
        }
    }
    Ok(())
}

/// A word of one demo development; words of every bench development.
const SEARCHES: [&str; 2] = ["Kirby", "Taliban troops"];

/// What the server runs for `stories(first: 10, search:)` with totalCount
/// (src/store/stories.rs), as a pgbench script.
fn raw_search(tsquery: &str) -> String {
    let matches = format!(
        "EXISTS (SELECT 1 FROM story_search d WHERE d.story_id = s.story_id \
         AND d.search @@ '{}'::tsquery AND (d.shard = 0 OR d.shard = 1))",
        tsquery.replace('\'', "''")
    );
    format!(
        "SELECT story_id, slug, version, created_at, updated_at FROM stories s WHERE {matches} \
         ORDER BY s.updated_at DESC, s.story_id DESC LIMIT 11;\n\
         SELECT count(*) FROM stories s WHERE {matches};\n"
    )
}

fn print_search(words: &str, reads: &common::Reads, raw: f64) {
    println!(
        "stories(search: {words:?}), 32 connections: {:>8.0} req/s, p50 {:.1} ms, p99 {:.1} ms, \
         {} errors; pgbench, same statements: {raw:>8.0}/s; ratio {:.2}",
        reads.per_second,
        reads.p50_ms,
        reads.p99_ms,
        reads.errors,
        reads.per_second / raw
    );
}

fn print_appends(appends: f64, raw: f64) {
    println!();
    println!(
        "median round: reportDevelopment over HTTP, 8 clients: {appends:>8.0} events/s; \
         pgbench single-row INSERT, 8 clients: {raw:>8.0}/s; ratio {:.2} (target ≥ 0.50: {})",
        appends / raw,
        verdict(appends / raw >= 0.5)
    );
}

fn print_reads(reads: &common::Reads) {
    println!(
        "snapshot query, 32 connections: {:>8.0} req/s (target ≥ 3,000: {}), p50 {:.1} ms, \
         p99 {:.1} ms (target ≤ 20 ms: {}), {} errors",
        reads.per_second,
        verdict(reads.per_second >= 3_000.0),
        reads.p50_ms,
        reads.p99_ms,
        verdict(reads.p99_ms <= 20.0),
        reads.errors
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "ok"
    } else {
        "NOT MET"
    }
}
